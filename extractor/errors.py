"""One error root for everything uttrekk reports to a person.

Every message says what is wrong, where (table, column, row key when known) and what to do.
The CLI turns any ``ExtractorError`` into a one-line message and a non-zero exit; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


class ExtractorError(Exception):
    """Root of every error uttrekk raises on purpose."""

    exit_code = 1

    def __reduce__(self) -> tuple[object, ...]:
        # Errors raised in a worker process travel back to the parent by pickle; subclasses with
        # their own __init__ arguments would not survive the default reduce.
        return _rebuild, (type(self), str(self), dict(self.__dict__))


def _rebuild(cls: type[ExtractorError], message: str, state: dict[str, object]) -> ExtractorError:
    exc = Exception.__new__(cls)
    Exception.__init__(exc, message)
    exc.__dict__.update(state)
    return exc


class ConfigError(ExtractorError):
    """A profile, option or argument is wrong."""


class ProfileError(ConfigError):
    """A profile file has problems; all of them are listed at once."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s) in the profile:\n{lines}")


class SourceError(ExtractorError):
    """The source database cannot be opened or read."""


class RenderingRefused(SourceError):
    """The server stopped rendering a table file (a character its charset cannot hold): the table
    is written again by the exact path, where the charset policy applies. Never reaches the user."""


class OutputError(ExtractorError):
    """The output directory cannot be used."""


_DISK = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file would be larger than this system allows",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EIO: "the disk reported an input/output error",
}


def disk_problem(exc: OSError) -> str:
    """What went wrong writing, in words a person acts on, with the system's own text."""
    said = exc.strerror or type(exc).__name__
    plain = _DISK.get(exc.errno or 0)
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{plain} ({said}){where}" if plain else f"{said}{where}"


@contextmanager
def writing(what: str) -> Iterator[None]:
    """Turn an operating-system error while writing ``what`` into one ``OutputError`` that names
    it: a full disk is a message, never a traceback."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"{what}: {disk_problem(exc)}") from None


class UnwritableError(ExtractorError):
    """Values cannot be written as the profile and options say; nothing is kept to resume."""


class UnencodableError(UnwritableError):
    """Values cannot be written in the chosen charset and no policy covers them."""

    def __init__(self, charset: str, findings: Sequence[str], total: int) -> None:
        self.charset = charset
        self.findings = list(findings)
        self.total = total
        shown = "\n".join(f"  {f}" for f in self.findings)
        more = "" if total <= len(self.findings) else f"\n  ... and {total - len(self.findings)} more"
        super().__init__(
            f"{total} value(s) cannot be written as {charset}; nothing was written.\n{shown}{more}\n"
            "Map the characters in the profile's [charset.map], set [charset] utf8_fallback = true "
            "(such tables are then written as UTF-8), or extract with --charset UTF-8. "
            "Run 'uttrekk inspect' to see the full list."
        )


class ExtractionError(ExtractorError):
    """Reading or writing a table failed part-way; no extract was published."""


class UnreadableInputError(ExtractorError):
    """An extract to validate cannot be read safely (missing, not an extract, hostile); exit code 2."""

    exit_code = 2
