"""The command line's error rule, shared by every click command: an ``ExtractorError`` becomes one
line 'uttrekk: error: …' and its exit code; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from .errors import ExtractorError


def report_errors(interrupted: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command; ``interrupted`` is what Ctrl-C left behind, said in one line."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ExtractorError as exc:
                click.echo(f"uttrekk: error: {exc}", err=True)
                sys.exit(exc.exit_code if exc.exit_code else 1)
            except KeyboardInterrupt:
                click.echo(f"uttrekk: interrupted; {interrupted}", err=True)
                sys.exit(130)
        return wrapper
    return decorate
