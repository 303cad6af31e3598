"""An output file that counts and hashes every byte it writes, so checksums cost no second read."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import TracebackType


class HashingFile:
    """Binary file writer that keeps SHA-256 and size as it goes; buffers small writes."""

    def __init__(self, path: Path, buffer_size: int = 1 << 20) -> None:
        self.path = path
        self._fh = path.open("wb")
        self._hash = hashlib.sha256()
        self.size = 0
        self._buf: list[bytes] = []
        self._buffered = 0
        self._limit = buffer_size

    def write(self, data: bytes) -> None:
        self._buf.append(data)
        self._buffered += len(data)
        if self._buffered >= self._limit:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            chunk = b"".join(self._buf)
            self._fh.write(chunk)
            self._hash.update(chunk)
            self.size += len(chunk)
            self._buf.clear()
            self._buffered = 0

    def close(self) -> None:
        if not self._fh.closed:
            self.flush()
            self._fh.close()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def write_file(path: Path, data: bytes) -> tuple[int, str]:
    """Write ``data`` to ``path``; return its size and SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data), hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file, read a chunk at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(chunk):
            digest.update(data)
    return digest.hexdigest()
