"""A database URL (``postgresql://user@host/db``): opened with the engine's adapter.

The password comes from the URL, else the prompt (``--ask-password``), else ``$UTTREKK_PASSWORD``,
else the driver's own files (``.pgpass``, MySQL option files). It is never shown: labels and
messages render the URL with the password masked.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from extractor.errors import ConfigError, SourceError

from . import Found, OpenOptions, Probe

if TYPE_CHECKING:
    from dialects.base import Dialect

PASSWORD_ENV = "UTTREKK_PASSWORD"
"""Environment variable holding the database password when the URL has none."""


class DatabaseUrl:
    def recognise(self, probe: Probe) -> Found | None:
        if not probe.is_url:
            return None
        scheme = probe.text.partition("://")[0]
        return Found("url", f"a database URL ({scheme}://)", {"scheme": scheme})

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        import sqlalchemy as sa
        from sqlalchemy.exc import ArgumentError

        from dialects import dialect_class
        from dialects.drivers import with_driver

        try:
            url = sa.engine.make_url(probe.text)
        except ArgumentError as exc:
            raise ConfigError(f"'{hide(probe.text)}' is neither a database URL nor a file path: {exc}") from None
        if url.password is None:
            secret = options.password if options.password is not None else os.environ.get(PASSWORD_ENV)
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


def hide(source: str) -> str:
    """A URL with its password masked, for a message about a URL SQLAlchemy cannot read."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", source)
