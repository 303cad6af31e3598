"""The command line's error rule, shared by every click command: an ``ExtractorError`` becomes one
line 'uttrekk: error: …' and its exit code; anything else is a bug and keeps its traceback.

Ctrl-C and SIGTERM (a scheduler or ``kill`` stopping a run) end a command the same way: the
cleanup of every ``finally`` runs, one line says what was left behind, and the exit code is the
shell's for that signal (130, 143).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from functools import wraps
from types import FrameType
from typing import Any

import click

from .errors import ExtractorError


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised where the program is, like Ctrl-C, so cleanup runs."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: the cleanup must not be cut short
    raise Terminated()


def report_errors(interrupted: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command; ``interrupted`` is what Ctrl-C or SIGTERM left behind, said in one line."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            main = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGTERM, _on_sigterm) if main else None
            try:
                return fn(*args, **kwargs)
            except ExtractorError as exc:
                click.echo(f"uttrekk: error: {exc}", err=True)
                sys.exit(exc.exit_code if exc.exit_code else 1)
            except Terminated:
                click.echo(f"uttrekk: terminated (SIGTERM); {interrupted}", err=True)
                sys.exit(128 + signal.SIGTERM)
            except KeyboardInterrupt:
                click.echo(f"uttrekk: interrupted; {interrupted}", err=True)
                sys.exit(130)
            finally:
                if main:
                    signal.signal(signal.SIGTERM, previous)
        return wrapper
    return decorate
