"""Dialect registry: one adapter per source engine, found by SQLAlchemy backend name.

Adapters are imported lazily so that a missing driver only matters for the engine that needs it.
"""

from __future__ import annotations

import difflib
import importlib
import os
from pathlib import Path

from extractor.errors import ConfigError, SourceError

from .base import Dialect
from .drivers import with_driver

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


PASSWORD_ENV = "UTTREKK_PASSWORD"
"""Environment variable holding the database password when the URL has none."""


def open_source(source: str, password: str | None = None) -> Dialect:
    """Open SOURCE, a SQLAlchemy URL or the path of a SQLite file, read-only.

    The password comes from the URL, else ``password`` (a prompt), else ``$UTTREKK_PASSWORD``,
    else the driver's own files (``.pgpass``, MySQL option files). It is never shown: labels and
    messages render the URL with the password masked.
    """
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError

    if "://" not in source:
        from .sqlite import SQLite

        return SQLite.from_path(Path(source))
    try:
        url = sa.engine.make_url(source)
    except ArgumentError as exc:
        raise ConfigError(f"'{_hide(source)}' is neither a database URL nor a file path: {exc}") from None
    if url.password is None:
        secret = password if password is not None else os.environ.get(PASSWORD_ENV)
        if secret:
            url = url.set(password=secret)
    url = with_driver(url)
    cls = dialect_class(url.get_backend_name())
    try:
        return cls.from_url(url)
    except ImportError as exc:
        raise SourceError(
            f"the driver for {url.get_backend_name()} is not installed ({exc.name or exc}); "
            f"install uttrekk[{url.get_backend_name()}]"
        ) from None


def _hide(source: str) -> str:
    import re

    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", source)
