"""Read a flat file record by record, as Arkade 5 cuts it, in one streamed pass.

Delimited files are split on the record separator except inside quotes, then on the field
separator; with a quoting character a field may be quoted, with doubled quotes inside (RFC 4180),
and an empty field that was not quoted is told apart from a quoted ``""`` (NULL versus empty
text). Fixed-width files are cut by record length, with or without a record separator, and by
field lengths; several record types are told apart by the value of the identifier field.

The same pass hashes the raw bytes (AH.01), counts them, and marks records whose text holds bytes
the declared charset does not allow (U.03). Memory holds one chunk and one record at a time;
a record longer than ``MAX_RECORD_CHARS`` stops reading the file.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .addml_model import FileType, FlatFileDef, RecordDef

CHUNK_BYTES = 1 << 20
MAX_RECORD_CHARS = 64 << 20
"""A record (or an unterminated quote) longer than this stops reading the file."""

HASHES = {"sha-256": "sha256", "sha256": "sha256", "sha-1": "sha1", "sha1": "sha1", "sha": "sha1", "md5": "md5",
          "sha-384": "sha384", "sha384": "sha384", "sha-512": "sha512", "sha512": "sha512"}
"""Checksum algorithm names .NET's CryptoConfig knows (case-insensitive) -> hashlib names."""

_C1 = re.compile(r"[\x80-\x9f\udc80-\udcff]")
_UNDECODABLE = re.compile(r"[\udc80-\udcff\ufffd]")
_NOT_C1 = bytes(b for b in range(256) if not 0x80 <= b <= 0x9F)


def bad_char_pattern(codec: str) -> re.Pattern[str]:
    """Characters that betray bytes not allowed in the charset: C1 controls in ISO 8859, undecodable bytes."""
    name = codecs.lookup(codec).name
    if name.startswith("iso8859") or name == "latin-1":
        return _C1
    return _UNDECODABLE


@dataclass(slots=True)
class Record:
    number: int
    rdef: RecordDef
    values: list[str]
    quoted: list[bool] | None
    length: int
    suspect: bool


@dataclass
class BadRecord:
    """A record Arkade cannot cut into the defined fields (AH.03); no other check sees it."""

    number: int | None
    rdef: str | None
    message: str
    text: str
    suspect: bool


class FlatFileReader:
    """Iterate a flat file's data records (``Record``) and broken ones (``BadRecord``)."""

    def __init__(self, stream: BinaryIO, fdef: FlatFileDef, ftype: FileType, hash_name: str | None,
                 chunk_bytes: int = CHUNK_BYTES) -> None:
        assert ftype.codec is not None
        self.stream = stream
        self.fdef = fdef
        self.ftype = ftype
        self.codec = ftype.codec
        self.hasher = hashlib.new(hash_name) if hash_name else None
        self.chunk_bytes = chunk_bytes
        self.bytes = 0
        self.bad_chars = bad_char_pattern(self.codec)
        self.header_level = fdef.records[0].header_level if fdef.records else 0
        self.header_bad: list[BadRecord] = []
        self.stopped: str | None = None
        ident = fdef.identifier
        self.by_value: dict[str, RecordDef] = {}
        self.ident_index: int | None = None
        self.ident_span: tuple[int, int] | None = None
        if ident and len(fdef.records) > 1:
            for r in fdef.records:
                if r.field_value is not None:
                    self.by_value.setdefault(r.field_value, r)
            holder = next((r for r in fdef.records if r.field(ident)), None)
            if holder is not None:
                f = holder.field(ident)
                assert f is not None
                self.ident_index = f.index
                if ftype.fixed:
                    start = sum(x.length or 0 for x in holder.fields[:f.index])
                    self.ident_span = (start, start + (f.length or 0))

    # --- bytes -> text ---

    def _chunks(self) -> Iterator[tuple[str, bool, bool]]:
        """(text, last chunk, whether the text holds a bad character); the check is done on the bytes where it can be."""
        if self.codec == "latin-1":
            while True:
                raw = self.stream.read(self.chunk_bytes)
                self._count(raw)
                if not raw:
                    yield "", True, False
                    return
                # C1 controls are the bytes 0x80-0x9F: deleting every other byte leaves nothing (fast, in C).
                yield raw.decode("latin-1"), False, bool(raw.translate(None, _NOT_C1))
        errors = "replace" if codecs.lookup(self.codec).name.startswith(("utf-16", "utf-32")) else "surrogateescape"
        decoder = codecs.getincrementaldecoder(self.codec)(errors=errors)
        ascii_safe = codecs.lookup(self.codec).name in ("utf-8", "ascii") or self.bad_chars is _C1
        first = True
        while True:
            raw = self.stream.read(self.chunk_bytes)
            self._count(raw)
            # ASCII bytes decode to ASCII text in these codecs, unless a byte sequence began in the last chunk.
            clean = ascii_safe and raw.isascii() and not decoder.getstate()[0]
            text = decoder.decode(raw, final=not raw)
            if first and text.startswith("\ufeff") and self.codec.replace("_", "-").lower() in ("utf-8", "utf8"):
                text = text[1:]  # .NET's StreamReader drops a UTF-8 byte-order mark
            first = False
            yield text, not raw, not clean and self.bad_chars.search(text) is not None
            if not raw:
                return

    def _count(self, raw: bytes) -> None:
        self.bytes += len(raw)
        if self.hasher is not None and raw:
            self.hasher.update(raw)

    def drain(self) -> None:
        """Read the rest of the file for the checksum after reading stopped early."""
        while True:
            raw = self.stream.read(self.chunk_bytes)
            if not raw:
                return
            self._count(raw)

    @property
    def digest(self) -> str | None:
        return self.hasher.hexdigest() if self.hasher is not None else None

    # --- records ---

    def __iter__(self) -> Iterator[Record | BadRecord]:
        return self._fixed() if self.ftype.fixed else self._delimited()

    def _delimited(self) -> Iterator[Record | BadRecord]:
        rs = self.ftype.record_sep or "\r\n"
        fs = self.ftype.field_sep or ";"
        q = self.ftype.quote
        carry = ""
        counter = _Numbering(self.header_level)
        # One record type: a record without quotes after the header lines is cut right here.
        plain = self.fdef.records[0] if self.ident_index is None and self.fdef.records else None
        width = len(plain.fields) if plain is not None else 0
        for text, final, bad_chunk in self._chunks():
            suspect = bad_chunk or (carry != "" and self.bad_chars.search(carry) is not None)
            buf = carry + text
            pieces = buf.split(rs)
            if final:
                carry = ""
                if pieces and pieces[-1] == "":
                    pieces.pop()  # a trailing separator ends the last record; it does not start one
            else:
                carry = pieces.pop()
            i = 0
            n = len(pieces)
            while i < n:
                rec = pieces[i]
                i += 1
                if q is not None and q in rec:
                    count = rec.count(q)
                    if count % 2 == 1:
                        j = i - 1
                        while count % 2 == 1 and j + 1 < n:
                            j += 1
                            count += pieces[j].count(q)
                        if count % 2 == 1 and not final:
                            carry = rs.join(pieces[i - 1:]) + rs + carry
                            break
                        rec = rs.join(pieces[i - 1:j + 1])
                        i = j + 1
                elif plain is not None and not counter.headers_left:
                    values = rec.split(fs)
                    counter.n += 1
                    if len(values) == width:
                        yield Record(counter.n, plain, values, None, len(rec), suspect)
                    else:
                        yield BadRecord(counter.n, plain.name, f"Unexpected number of fields: {len(values)}/{width}",
                                        rec[:40], suspect)
                    continue
                item = self._delimited_record(rec, counter, suspect)
                if item is not None:
                    yield item
            if len(carry) > MAX_RECORD_CHARS:
                self.stopped = (f"a record (or an unterminated quote) runs past {MAX_RECORD_CHARS:,} characters; "
                                "the rest of the file was not read")
                yield BadRecord(counter.peek(), None, self.stopped, carry[:40], False)
                self.drain()
                return

    def _delimited_record(self, rec: str, counter: _Numbering, suspect: bool) -> Record | BadRecord | None:
        """One record's text cut into fields; None for a header line (a broken one is kept in ``header_bad``)."""
        fs = self.ftype.field_sep or ";"
        q = self.ftype.quote
        quoted: list[bool] | None = None
        problem = None
        if q is None or q not in rec:
            values = rec.split(fs)
        else:
            values, quoted, problem = split_quoted(rec, fs, q)
        header = counter.header()
        number = None if header else counter.next()
        rdef = self.fdef.records[0]
        if self.ident_index is not None:
            key = values[self.ident_index] if self.ident_index < len(values) else None
            found = self.by_value.get(key) if key is not None else None
            if found is None:
                bad = BadRecord(number, None, f"no record definition has recordDefinitionFieldValue {key!r}",
                                rec[:40], suspect)
                if header:
                    self.header_bad.append(bad)
                    return None
                return bad
            rdef = found
        if len(values) != len(rdef.fields) or problem:
            msg = problem or f"Unexpected number of fields: {len(values)}/{len(rdef.fields)}"
            bad = BadRecord(number, rdef.name, msg, rec[:40], suspect)
            if header:
                self.header_bad.append(bad)
                return None
            return bad
        if number is not None:
            return Record(number, rdef, values, quoted, len(rec), suspect)
        return None

    def _fixed(self) -> Iterator[Record | BadRecord]:
        sep = self.ftype.record_sep or ""
        counter = _Numbering(self.header_level)
        lengths = {r.fixed_length or 0 for r in self.fdef.records}
        common = min(lengths) if lengths else 0
        slices = {r.name: _slices(r) for r in self.fdef.records}
        text = ""
        pos = 0
        for chunk, final, bad_chunk in self._chunks():
            text = text[pos:]
            suspect = bad_chunk or (text != "" and self.bad_chars.search(text) is not None)
            text += chunk
            pos = 0
            end = len(text)
            while pos < end:
                rdef: RecordDef | None = self.fdef.records[0]
                if self.ident_span is not None:
                    a, b = self.ident_span
                    if end - pos < b and not final:
                        break
                    rdef = self.by_value.get(text[pos + a:pos + b])
                length = rdef.fixed_length or 0 if rdef is not None else common
                need = length + len(sep)
                if end - pos < need and not final:
                    break
                if sep and text[pos + length:pos + need] != sep:
                    k = text.find(sep, pos)
                    if k < 0 and not final:
                        if end - pos > MAX_RECORD_CHARS:
                            self.stopped = f"no record separator within {MAX_RECORD_CHARS:,} characters; reading stopped"
                            yield BadRecord(counter.peek(), None, self.stopped, text[pos:pos + 40], suspect)
                            self.drain()
                            return
                        break
                    stop = k if k >= 0 else end
                    yield from self._bad_fixed(counter, rdef, suspect, text[pos:stop],
                                               f"record length {stop - pos}, expected {length}" if k >= 0 else
                                               f"last record has {stop - pos} characters and no record separator "
                                               f"(expected {length} and {self.ftype.record_sep_text})")
                    pos = stop + len(sep) if k >= 0 else end
                    continue
                if end - pos < need:
                    yield from self._bad_fixed(counter, rdef, suspect, text[pos:end],
                                               f"incomplete last record: {end - pos} characters, expected {length}")
                    pos = end
                    continue
                body = text[pos:pos + length]
                pos += need
                header = counter.header()
                number = None if header else counter.next()
                if rdef is None:
                    bad = BadRecord(number, None, "no record definition has recordDefinitionFieldValue "
                                    f"{body[self.ident_span[0]:self.ident_span[1]] if self.ident_span else ''!r}",
                                    body[:40], suspect)
                    if header:
                        self.header_bad.append(bad)
                    else:
                        yield bad
                    continue
                if number is not None:
                    yield Record(number, rdef, [body[x:y] for x, y in slices[rdef.name]], None, length, suspect)
            if final:
                return

    def _bad_fixed(self, counter: _Numbering, rdef: RecordDef | None, suspect: bool, body: str,
                   message: str) -> Iterator[BadRecord]:
        header = counter.header()
        bad = BadRecord(None if header else counter.next(), rdef.name if rdef else None, message, body[:40], suspect)
        if header:
            self.header_bad.append(bad)
        else:
            yield bad


def _slices(r: RecordDef) -> list[tuple[int, int]]:
    out = []
    pos = 0
    for f in r.fields:
        out.append((pos, pos + (f.length or 0)))
        pos += f.length or 0
    return out


class _Numbering:
    """Record numbers: 1 for the first record after the header lines."""

    def __init__(self, header_level: int) -> None:
        self.headers_left = header_level
        self.n = 0

    def header(self) -> bool:
        if self.headers_left > 0:
            self.headers_left -= 1
            return True
        return False

    def next(self) -> int:
        self.n += 1
        return self.n

    def peek(self) -> int:
        return self.n + 1


def split_quoted(rec: str, fs: str, q: str) -> tuple[list[str], list[bool], str | None]:
    """Split one record with quoting (RFC 4180); return values, which were quoted, and a quoting problem.

    The record is split on every separator first (fast, in C); pieces of a quoted field that held
    separators are joined again while the field's quotes are unbalanced.
    """
    pieces = rec.split(fs)
    values: list[str] = []
    quoted: list[bool] = []
    problem = None
    i = 0
    n = len(pieces)
    lq = len(q)
    while i < n:
        piece = pieces[i]
        i += 1
        if not piece.startswith(q):
            if problem is None and q in piece:
                problem = f"badly quoted field {len(values) + 1}: {piece[:40]!r}"
            values.append(piece)
            quoted.append(False)
            continue
        while piece.count(q) % 2 and i < n:
            piece += fs + pieces[i]
            i += 1
        inner = piece[lq:-lq]
        if len(piece) >= 2 * lq and piece.endswith(q) and q not in inner.replace(q + q, ""):
            values.append(inner.replace(q + q, q))
            quoted.append(True)
        else:
            if problem is None:
                problem = f"badly quoted field {len(values) + 1}: {piece[:40]!r}"
            values.append(piece)
            quoted.append(False)
    return values, quoted, problem
