"""Tables in parallel (``--jobs N``): worker processes, each reading inside the run's one snapshot.

The parent holds the run's read-only transaction and exports its snapshot; every worker opens its
own connection and joins that snapshot before reading, so all tables still come from one moment
of the source. A task is one table, scanned and written (``extract.extract_scanning``).
Workers are processes, not threads: rendering values is Python work and would
otherwise share one core. Each task is one whole table; results are joined in plan order by the
caller, so the output does not depend on which worker finished first.

Engines that cannot share a snapshot between connections refuse ``--jobs`` above 1 rather than
give an extract whose tables come from different moments.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .extract import TableDone, extract_scanning
from .plan import Plan, TablePlan
from .scan import TableScanned, rows_of
from .source_dialect import SourceDialect


@dataclass(frozen=True)
class Workers:
    """How to reach the source from a worker: the source, its password and the snapshot to join."""

    jobs: int
    source: str = ""
    password: str | None = None
    snapshot: str | None = None

    def __repr__(self) -> str:  # never show the password
        return f"Workers(jobs={self.jobs}, snapshot={self.snapshot!r})"


def workers_for(dialect: SourceDialect, jobs: int, source: str, password: str | None) -> Workers:
    """Check that ``jobs`` workers can share the snapshot; export it (call inside the snapshot)."""
    if jobs < 1:
        raise ConfigError(f"--jobs {jobs}: give 1 or more")
    if jobs == 1:
        return Workers(1)
    if not dialect.capabilities.shared_snapshot:
        raise ConfigError(
            f"--jobs {jobs}: {dialect.name} cannot share one snapshot between connections, so parallel "
            "workers would read the tables at different moments. Run with --jobs 1 (one consistent snapshot).")
    return Workers(jobs, dialect.worker_source or source, password, dialect.export_snapshot())


_WORKER: dict[str, Any] = {}


def _start_worker(workers: Workers) -> None:
    """Open the source in a worker. An error is kept and raised by the worker's first task: a Pool
    whose initializer raises starts new workers forever, and the run would hang."""
    from dialects import open_source

    try:
        stack = ExitStack()
        dialect = open_source(workers.source, workers.password)
        stack.callback(dialect.close)
        stack.enter_context(dialect.snapshot(join=workers.snapshot))
        _WORKER.update(dialect=dialect, stack=stack)
    except Exception as exc:
        _WORKER["error"] = exc


def _table_task(task: tuple[Plan, str, Path, Path]) -> tuple[str, TableScanned, TableDone]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    plan, name, content, work = task
    scanned, done = extract_scanning(plan, plan.table(name), rows_of(_WORKER["dialect"]), content, work)
    return name, scanned, done


def _run(workers: Workers, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterator[Any]:
    """Results of ``fn`` over ``tasks`` as they finish; the first error stops every worker."""
    size = min(workers.jobs, len(tasks))
    if not size:
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(size, _start_worker, (workers,)) as pool:  # leaving the block terminates the workers
        yield from pool.imap_unordered(fn, tasks)


def process_tables(plan: Plan, tables: list[TablePlan], dialect: SourceDialect, workers: Workers, content: Path, work: Path,
                   progress: Any = None) -> Iterator[tuple[TablePlan, TableScanned, TableDone]]:
    """Each table scanned and extracted (``extract_scanning``), yielded as it finishes."""
    if workers.jobs == 1:
        for tp in tables:
            scanned, done = extract_scanning(plan, tp, rows_of(dialect), content, work, progress)
            yield tp, scanned, done
        return
    tick = progress("tables", len(tables)) if progress else None
    tasks = [(plan, tp.name, content, work) for tp in _largest_first(tables, progress)]
    for name, scanned, done in _run(workers, _table_task, tasks):
        if tick:
            tick(1)
        yield plan.table(name), scanned, done


def _largest_first(tables: Any, progress: Any) -> list[TablePlan]:
    """Big tables start first, so one of them does not run alone at the end."""
    sizes = getattr(progress, "totals", None) or {}
    return sorted(tables, key=lambda tp: -sizes.get(tp.name, 0))
