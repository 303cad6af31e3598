"""Dialect registry: one adapter per source engine, found by SQLAlchemy backend name.

Adapters are imported lazily so that a missing driver only matters for the engine that needs it.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from extractor.errors import ConfigError

from .base import Dialect

REGISTRY: dict[str, str] = {
    "sqlite": "dialects.sqlite:SQLite",
    "postgresql": "dialects.postgresql:PostgreSQL",
    "mysql": "dialects.mysql:MySQL",
    "mariadb": "dialects.mysql:MySQL",
    "firebird": "dialects.firebird:Firebird",
    "mssql": "dialects.mssql:MSSQL",
    "oracle": "dialects.oracle:Oracle",
}
"""Backend name -> ``module:Class``; any other backend SQLAlchemy knows uses the generic base."""


def _load(path: str) -> type[Dialect]:
    module, _, cls = path.partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def dialect_class(backend: str) -> type[Dialect]:
    """The adapter class for a backend name; ``ConfigError`` with a suggestion if unknown."""
    if backend in REGISTRY:
        return _load(REGISTRY[backend])
    from sqlalchemy.dialects import registry as sa_registry

    try:
        sa_registry.load(backend)
    except Exception:
        known = sorted(set(REGISTRY) | {"postgresql", "mysql", "mariadb", "mssql", "oracle"})
        near = difflib.get_close_matches(backend, known, n=1)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        raise ConfigError(f"unknown database type '{backend}'.{hint} Known: {', '.join(known)}") from None
    return Dialect


def open_source(source: str, password: str | None = None, **options: Any) -> Dialect:
    """Open SOURCE read-only: a database URL, or a file or folder of a kind ``dialects.kinds`` knows.
    ``options`` are ``dialects.kinds.OpenOptions`` fields (``database``, ``accept_losses``, ``quiet``)."""
    from .kinds import open_source as open_kind

    return open_kind(source, password, **options)


def recognise_source(source: str) -> tuple[Any, Any]:
    """What SOURCE is, without opening it: ``(Probe, Found)`` (``dialects.kinds.recognise``)."""
    from .kinds import recognise

    return recognise(source)


def open_recognised(probe: Any, found: Any, password: str | None = None, **options: Any) -> Dialect:
    """Open what ``recognise_source`` found (without looking at SOURCE again)."""
    from .kinds import OpenOptions, open_found

    return open_found(probe, found, OpenOptions(password=password, **options))
