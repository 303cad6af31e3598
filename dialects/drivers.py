"""The driver each engine adapter reads through, and what a URL without a driver means.

SQLAlchemy gives ``mysql://`` to MySQLdb and, before 2.1, ``postgresql://`` to psycopg2 and
``oracle://`` to cx_Oracle: drivers uttrekk neither installs nor is tested with. A URL that names
no driver gets the one uttrekk's extra installs; a URL that names another driver is refused with
the URL to give instead, since each adapter uses its driver's own interfaces (psycopg's COPY and
loaders, PyMySQL's field descriptions, firebird-driver's transaction parameters).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extractor.errors import ConfigError, SourceError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


@dataclass(frozen=True)
class Driver:
    name: str
    """As in the URL: ``mysql+pymysql://``."""
    modules: tuple[str, ...]
    """What must be importable (Firebird's SQLAlchemy dialect is a package of its own)."""
    extra: str
    """``pip install 'uttrekk[EXTRA]'`` installs it."""
    package: str
    """The driver's name on PyPI, for messages."""


DRIVERS: dict[str, Driver] = {
    "postgresql": Driver("psycopg", ("psycopg",), "postgresql", "psycopg"),
    "mysql": Driver("pymysql", ("pymysql",), "mysql", "PyMySQL"),
    "mariadb": Driver("pymysql", ("pymysql",), "mysql", "PyMySQL"),
    "firebird": Driver("firebird", ("firebird.driver", "sqlalchemy_firebird"), "firebird",
                       "firebird-driver and sqlalchemy-firebird"),
    "mssql": Driver("pyodbc", ("pyodbc",), "mssql", "pyodbc"),
    "oracle": Driver("oracledb", ("oracledb",), "oracle", "oracledb"),
}
"""Backend name -> the driver its adapter is written for."""


def with_driver(url: URL) -> URL:
    """``url`` naming its adapter's driver: added where the URL names none, once it is installed.

    ``SourceError`` when it is not installed (which extra to install), ``ConfigError`` when the URL
    names another driver (the URL to give instead)."""
    backend = url.get_backend_name()
    driver = DRIVERS.get(backend)
    if driver is None:
        return url
    given = url.drivername.partition("+")[2]
    if given and given != driver.name:
        raise ConfigError(f"{url.drivername}://: uttrekk reads {backend} through {driver.package}, not {given}; "
                          f"write the URL as {backend}+{driver.name}:// (or {backend}://)")
    missing = [m for m in driver.modules if not _installed(m)]
    if missing:
        raise SourceError(f"{url.drivername}://: the driver for {backend} is not installed ({', '.join(missing)}); "
                          f"install it with: pip install 'uttrekk[{driver.extra}]' ({driver.package})")
    return url.set(drivername=f"{backend}+{driver.name}")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package of a dotted name is missing
        return False
