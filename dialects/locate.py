"""Where the data is: which schema to read when none is given, and which database a URL should name.

A dump restored as the guide says often puts its tables somewhere else than the place uttrekk
looks: ``pg_dump`` of a system whose tables live in schema ``fagsys`` restores them into that
schema, not ``public``; ``mysqldump --databases`` recreates its own database beside the empty one
the technician made. These rules decide, and their messages say where the tables are and how to
choose (each adapter's catalogue SQL gives the names and counts):

- a schema given with ``--schema`` is read as given;
- the connection's default schema is read when it has tables; other schemas of the same database
  that have tables are named in a note (the extract does not read them);
- when the default schema has none and exactly one other schema of the same database has, that
  one is read, and a note says so (PostgreSQL, SQL Server, Oracle: a schema there is part of the
  database the URL named, so it is the same system);
- MySQL/MariaDB never read another database than the URL names: there a schema *is* a database,
  often another system on the same server, and archiving it under the name the technician gave
  would be a silent substitution. uttrekk stops and names the databases that have tables, with the
  URL to give;
- when nothing has tables, the server's other databases are listed (where the engine can).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extractor.errors import SourceError

from .base import url_label

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

SHOWN = 40
"""Names listed in one message; the rest are counted."""


@dataclass(frozen=True)
class Location:
    """The schema to read and what to say about it."""

    schema: str | None
    """For ``Dialect.reflect``: ``None`` is the connection's default schema."""
    note: str = ""
    """For the report, inspect and profile init: a schema chosen for the user, or others not read."""
    nothing: str = ""
    """The error when the schema read has no tables: where the tables are instead, and how to choose."""


def tables(n: int) -> str:
    return f"{n} table{'' if n == 1 else 's'}"


def counted(found: Mapping[str, int | None]) -> str:
    """``a (3 tables), b (1 table), c``: names with their table counts where known, at most ``SHOWN``."""
    parts = [name if n is None else f"{name} ({tables(n)})" for name, n in list(found.items())[:SHOWN]]
    if len(found) > SHOWN:
        parts.append(f"and {len(found) - SHOWN} more")
    return ", ".join(parts)


def choose(url: URL, schema: str | None, default: str | None, found: dict[str, int] | None, databases: bool,
           server: dict[str, int | None] | None = None, database: str | None = None) -> Location:
    """The rules of the module docstring. ``found``: the schemas that have tables (None: the engine
    has no schemas); ``databases``: schemas are the server's databases (MySQL); ``server``: the
    server's other databases, asked for only when nothing in ``database`` has tables."""
    label = url_label(url)
    if found is None:
        return Location(schema, nothing=f"{label}: the database has no tables to extract")
    kind = "database" if databases else "schema"
    others = {name: n for name, n in sorted(found.items()) if name != (default if schema is None else schema)}
    if schema is not None:
        return Location(schema, nothing=f"{label}: the {kind} {schema} has no tables" + (
            f"; {kind}s with tables: {counted(others)}; choose one with --schema NAME" if others else ""))
    here = f"the {kind} {default}"
    if default in found:
        if databases or not others:
            return Location(None)
        return Location(None, note=f"only {here} is read ({tables(found[default])}); "
                                   f"other schemas of this database have tables too: {counted(others)}; "
                                   "--schema NAME reads one of them")
    if len(others) == 1 and not databases:
        name, n = next(iter(others.items()))
        return Location(name, note=f"{here} (the connection's default) has no tables, so uttrekk read schema {name}, "
                                   f"the only one with tables ({tables(n)}); --schema {name} chooses it explicitly")
    if others and databases:
        pick = next(iter(others)) if len(others) == 1 else "NAME"
        return Location(None, nothing=f"{label}: {here} has no tables; databases on this server with tables: "
                                      f"{counted(others)}; name one in the URL ({url_label(url.set(database=pick))}) "
                                      f"or give --schema {pick}")
    if others:
        return Location(None, nothing=f"{label}: {here} (the connection's default) has no tables; schemas of this "
                                      f"database with tables: {counted(others)}; choose one with --schema NAME")
    if server:
        return Location(None, nothing=f"{label}: the database {database or ''} has no tables in any schema; other "
                                      f"databases on this server: {counted(server)}; name one in the URL "
                                      f"({url_label(url.set(database='NAME'))})")
    return Location(None, nothing=f"{label}: the database has no tables to extract" + (
        ", and no other database on this server that this user can see has any" if databases else ""))


def no_database(url: URL, found: Mapping[str, int | None], wanted: str | None, why: str = "") -> SourceError:
    """The error for a URL that names no database (``wanted`` None) or one the server does not have:
    the server's databases and the URL that names one (the password never shown)."""
    label = url_label(url)
    if wanted is None:
        problem = f"the URL names no database{why}"
    else:
        near = difflib.get_close_matches(wanted, list(found), n=1, cutoff=0.5)
        problem = f"the server has no database '{wanted}'{why}" + (f" (did you mean '{near[0]}'?)" if near else "")
    if not found:
        return SourceError(f"{label}: {problem}, and none this user can see: restore the dump into a database "
                           "first, or ask for access to one")
    example = next(iter(found)) if len(found) == 1 else (
        difflib.get_close_matches(wanted or "", list(found), n=1, cutoff=0.5) or ["NAME"])[0]
    return SourceError(f"{label}: {problem}; the databases on this server: {counted(found)}; name one at the end "
                       f"of the URL: {url_label(url.set(database=example))}")
