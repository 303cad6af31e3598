"""Many tables in one consistent snapshot with few locks held (PostgreSQL), and what MariaDB holds.

PostgreSQL keeps a lock on every table and index a transaction has read until the transaction
ends, in a lock table the whole server shares (``max_locks_per_transaction`` x ``max_connections``
slots); one transaction over thousands of tables ran out of it. The run's snapshot is exported by
a transaction that reads nothing and imported by reading transactions that end after a few
statements. These tests read more tables than one transaction's share of that lock table, ask
``pg_locks`` what uttrekk's sessions hold while they read, and commit rows from another session in
the middle of the run: none of them may appear in the extract. The 20,000-table run is in
``bench/tables_bench.py`` (docs/performance.md).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

import tests.readback as rb
from tests.conftest import fresh_database, run

TABLES = 150
ROWS = 3
DATE = "2026-01-31"
NEW_ID = 1000
"""The row another session commits into every table while the run reads."""


def _name(i: int) -> str:
    return f"t{i:04d}"


@pytest.fixture(scope="module")
def pg_many():
    with fresh_database("postgresql", "uttrekk_many") as url:
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            for i in range(1, TABLES + 1):
                conn.exec_driver_sql(f"CREATE TABLE {_name(i)} (id integer PRIMARY KEY, navn varchar(40) NOT NULL)")
                conn.exec_driver_sql(f"INSERT INTO {_name(i)} SELECT g, 'rad ' || g FROM generate_series(1, {ROWS}) g")
        eng.dispose()
        yield url


def _url(url: sa.engine.URL) -> str:
    return url.render_as_string(hide_password=False)


class Observer:
    """Another session on the database: what uttrekk's sessions hold, and writes committed mid-run."""

    def __init__(self, url: sa.engine.URL) -> None:
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.conn = self.engine.connect()
        self.most = 0
        self.samples = 0
        self.max_locks = int(self.conn.exec_driver_sql("SHOW max_locks_per_transaction").scalar_one())
        self.conn.rollback()

    def sample(self) -> None:
        """The most relation locks any other session on this database holds right now."""
        held = self.conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE a.datname = current_database() AND l.pid <> pg_backend_pid() AND l.locktype = 'relation' "
            "GROUP BY l.pid").scalars().all()
        self.conn.rollback()
        self.most = max([self.most, *held])
        self.samples += 1

    def write_everywhere(self) -> None:
        """Commit a new row into every table and delete row 1 of each: the run must see neither."""
        for i in range(1, TABLES + 1):
            self.conn.exec_driver_sql(f"INSERT INTO {_name(i)} VALUES ({NEW_ID}, 'skrevet under uttrekket')")
            self.conn.exec_driver_sql(f"DELETE FROM {_name(i)} WHERE id = 1")
        self.conn.commit()

    def undo(self) -> None:
        self.conn.rollback()
        for i in range(1, TABLES + 1):
            self.conn.exec_driver_sql(f"DELETE FROM {_name(i)} WHERE id = {NEW_ID}")
            self.conn.exec_driver_sql(f"INSERT INTO {_name(i)} VALUES (1, 'rad 1') ON CONFLICT DO NOTHING")
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def _as_in_the_snapshot(content: Path) -> None:
    """Every table holds exactly its rows from before the other session wrote."""
    tables = rb.read_addml(content / "addml.xml")
    assert len(tables) == TABLES
    for i in range(1, TABLES + 1):
        rows = rb.read_table(content, tables[_name(i)], "delimited")
        assert [(r["id"], r["navn"]) for r in rows] == [(str(n), f"rad {n}") for n in range(1, ROWS + 1)], _name(i)


def test_many_tables_one_snapshot_few_locks(pg_many, tmp_path, monkeypatch):
    import extractor.parallel as parallel

    observer = Observer(pg_many)
    real = parallel.extract_scanning
    started: list[str] = []

    def observed(plan, tp, *args, **kwargs):
        observer.sample()  # what the run holds after the tables before this one
        if not started:
            observer.write_everywhere()  # after the snapshot began, before any table's rows are read
        started.append(tp.name)
        return real(plan, tp, *args, **kwargs)

    monkeypatch.setattr(parallel, "extract_scanning", observed)
    try:
        r = run("extract", _url(pg_many), "--out", tmp_path / "o", "--date", DATE, "--charset", "UTF-8", "-q")
        assert r.exit_code == 0, r.output
        observer.sample()
    finally:
        observer.undo()
        observer.close()
    assert len(started) == TABLES and observer.samples == TABLES + 1
    # one transaction would hold a lock on each table and its primary key index: 300 here
    assert 2 * TABLES > observer.max_locks and 0 < observer.most <= observer.max_locks
    _as_in_the_snapshot(tmp_path / "o" / "content")
    report = json.loads((tmp_path / "o" / "report" / "extraction.json").read_text(encoding="utf-8"))
    facts = report["snapshot"]
    assert facts["kept_by"] == "exported snapshot" and facts["statements_per_transaction"] == observer.max_locks // 8
    assert facts["reading_transactions"] >= TABLES // facts["statements_per_transaction"]
    assert "one snapshot for the whole run" in report["session"]
    assert f"imported by {facts['reading_transactions']} REPEATABLE READ" in report["session"]


def test_parallel_workers_keep_the_snapshot_with_few_locks(pg_many, tmp_path):
    """Each worker's transactions import the coordinator's snapshot and end after a few statements."""
    from dialects import open_source
    from extractor.parallel import process_tables, workers_for
    from extractor.pipeline import Options, reflect_and_plan
    from extractor.profile import Profile

    observer = Observer(pg_many)
    watching = threading.Event()
    sampler_conn = Observer(pg_many)

    def watch() -> None:
        while not watching.is_set():
            sampler_conn.sample()
            watching.wait(0.005)

    d = open_source(_url(pg_many))
    thread = threading.Thread(target=watch)
    try:
        _, plan = reflect_and_plan(d, Profile(), Options(charset="UTF-8"))
        with d.snapshot():
            workers = workers_for(d, 2, _url(pg_many), None)
            observer.write_everywhere()
            (tmp_path / "content").mkdir()
            thread.start()
            done = {tp.name: td for tp, _, td in
                    process_tables(plan, list(plan.tables), d, workers, tmp_path / "content", tmp_path)}
    finally:
        watching.set()
        if thread.is_alive():
            thread.join()
        observer.undo()
        observer.close()
        sampler_conn.close()
        d.close()
    assert len(done) == TABLES and all(td.file.records == ROWS for td in done.values())
    assert sampler_conn.samples > 10 and 0 < sampler_conn.most <= sampler_conn.max_locks
    for i in range(1, TABLES + 1):
        text = (tmp_path / "content" / f"{_name(i)}.txt").read_bytes().decode("utf-8")
        assert text == "".join(f"{n};rad {n}\r\n" for n in range(1, ROWS + 1)), _name(i)


def test_mariadb_holds_a_metadata_lock_per_table_read_until_the_run_ends():
    """InnoDB cannot export its snapshot, so the run keeps one transaction; each table read keeps a
    shared metadata lock to its end (DDL from another session waits), and the snapshot hides rows
    committed meanwhile. What the docstring of dialects/mysql.py says, shown on the server."""
    from dialects import open_source

    with fresh_database("mariadb", "uttrekk_mdl") as url:
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            for name in ("a", "b"):
                conn.exec_driver_sql(f"CREATE TABLE {name} (id int PRIMARY KEY) ENGINE=InnoDB")
                conn.exec_driver_sql(f"INSERT INTO {name} VALUES (1), (2)")
        d = open_source(_url(url))
        other = eng.connect()
        try:
            schema = d.reflect()
            with d.snapshot():
                assert d.count_rows(schema.table("a")) == 2
                other.exec_driver_sql("SET SESSION lock_wait_timeout = 1")
                other.exec_driver_sql("INSERT INTO b VALUES (3)")
                other.commit()
                with pytest.raises(sa.exc.OperationalError, match="Lock wait timeout"):
                    other.exec_driver_sql("ALTER TABLE a ADD COLUMN x int")
                other.rollback()
                assert d.count_rows(schema.table("b")) == 2  # the snapshot began before the insert
                assert d.snapshot_details()["locks"].startswith("a shared metadata lock on each table read")
            other.exec_driver_sql("ALTER TABLE a ADD COLUMN x int")  # the run's transaction has ended
        finally:
            other.close()
            d.close()
            eng.dispose()
