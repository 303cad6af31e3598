"""Load into PostgreSQL with psycopg: COPY per batch, everything in one transaction committed at the end.

Types: ``text``, ``bigint``, ``numeric`` (exact, with the scale each value was written with),
``date``, ``timestamp``, ``timestamptz``, ``time``, ``boolean``, ``bytea``. A timestamp or time with
more than six fraction digits is refused value by value (PostgreSQL would round it), and so is
text holding NUL, which PostgreSQL's text cannot hold. Keys are added with ALTER TABLE after the
data are verified; descriptions become ``COMMENT ON``. A database that does not exist is created
(UTF-8); one that holds any table, view or sequence outside the system schemas is refused.
The password of the URL is never printed: messages show the URL with ``***``.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from ..errors import OutputError
from .target import Constraint, Target, quote


def _hide(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class PostgresTarget(Target):
    TYPES = {"text": "text", "integer": "bigint", "decimal": "numeric", "date": "date", "timestamp": "timestamp",
             "timestamptz": "timestamptz", "time": "time", "boolean": "boolean", "blob": "bytea"}
    fraction_limit = 6
    nul_in_text = False

    def __init__(self, url: str) -> None:
        import psycopg

        scheme, rest = url.split("://", 1) if "://" in url else (url, "")
        self.errors = (psycopg.Error,)
        self.url = "postgresql://" + rest
        self.label = _hide(self.url)
        self._password = urlsplit(self.url).password
        try:
            self.conn = self._connect()
        except psycopg.OperationalError as exc:
            dbname = unquote(urlsplit(self.url).path.lstrip("/"))
            if dbname and "does not exist" in str(exc):
                self._create_database(dbname)
                self.left = f"nothing was loaded; the database {dbname} was created for the load and is left empty"
                self.conn = self._connect()
            else:
                raise OutputError(f"{self.label}: cannot connect ({self.clean(exc)})") from None
        self._refuse_used()
        self.cur = self.conn.cursor()

    def clean(self, exc: BaseException) -> str:
        text = super().clean(exc)
        for secret in {self._password, unquote(self._password or "")} - {None, ""}:
            text = text.replace(secret, "***")  # type: ignore[arg-type]
        return text

    def _connect(self):  # type: ignore[no-untyped-def]
        import psycopg
        return psycopg.connect(self.url, autocommit=False, connect_timeout=20)

    def _create_database(self, name: str) -> None:
        import psycopg
        admin = urlsplit(self.url)._replace(path="/postgres").geturl()
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=20) as conn:
                conn.execute(f"CREATE DATABASE {quote(name)} ENCODING 'UTF8' TEMPLATE template0")  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise OutputError(f"{self.label}: the database does not exist and cannot be created "
                              f"({self.clean(exc)}); create it empty first") from None

    def _refuse_used(self) -> None:
        rows = self.conn.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
            "AND n.nspname NOT LIKE 'pg\\_temp%' AND c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p') "
            "ORDER BY 1 LIMIT 5").fetchall()
        if rows:
            self.conn.close()
            raise OutputError(f"{self.label} is not empty (it holds {', '.join(r[0] for r in rows)}); uttrekk load "
                              "writes only into a new or empty database and never replaces anything")

    def execute(self, sql: str) -> None:
        self.cur.execute(sql)  # type: ignore[arg-type]

    def query(self, sql: str) -> list[tuple[object, ...]]:
        self.cur.execute(sql)  # type: ignore[arg-type]
        return list(self.cur.fetchall())

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[object, ...]]) -> None:
        sql = f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN"
        with self.cur.copy(sql) as copy:  # type: ignore[arg-type]
            for row in rows:
                copy.write_row(row)

    def declare_all(self, work: list[tuple[str, list[str], list[Constraint]]]) -> None:
        """Primary and unique keys of every table first: a foreign key needs the key it points at."""
        for table, not_null, constraints in work:
            t = quote(table)
            for c in not_null:
                self.execute(f"ALTER TABLE {t} ALTER COLUMN {quote(c)} SET NOT NULL")
            for k in constraints:
                names = ", ".join(map(quote, k.columns))
                if k.kind in ("primary", "unique"):
                    what = "PRIMARY KEY" if k.kind == "primary" else "UNIQUE"
                    self.execute(f"ALTER TABLE {t} ADD CONSTRAINT {quote(k.name)} {what} ({names})")
        for table, _, constraints in work:
            for k in constraints:
                if k.kind == "foreign":
                    assert k.target is not None and k.target_columns is not None
                    self.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(k.name)} FOREIGN KEY "
                                 f"({', '.join(map(quote, k.columns))}) REFERENCES {quote(k.target)} "
                                 f"({', '.join(map(quote, k.target_columns))})")

    def comment(self, table: str, column: str | None, text: str) -> None:
        from psycopg import sql

        what = f"COLUMN {quote(table)}.{quote(column)}" if column else f"TABLE {quote(table)}"
        self.cur.execute(sql.SQL(f"COMMENT ON {what} IS {{}}").format(sql.Literal(text.replace("\x00", ""))))  # type: ignore[arg-type]

    def finish(self) -> None:
        self.conn.commit()
        self.conn.close()

    def abort(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()
