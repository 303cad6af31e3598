"""Candidates added to a profile as ``foreign_keys`` with ``confirmed = false``: ``add_relations`` edits
the text (pure), ``write_profile`` is ``--write-profile``'s file around it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, InlineTable

from ..errors import ConfigError, ProfileError
from ..output import write_atomically
from .candidates import Candidate


def write_profile(path: Path, candidates: Sequence[Candidate], source: str = "") -> tuple[list[Candidate], list[Candidate]]:
    """Add each candidate to the profile file ``path`` (``add_relations``), created if missing and
    replaced atomically, only when something was added. Returns (added, already there)."""
    if path.is_dir():
        raise ConfigError(f"--write-profile {path}: is a directory; give a profile file (TOML)")
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(str(path), [f"cannot be read: {exc}"]) from None
    out, added, present = add_relations(text, candidates, str(path), time.strftime("%Y-%m-%d"), source)
    if added:
        write_atomically(path, out, f"--write-profile {path}")
    return added, present


def add_relations(text: str, candidates: Sequence[Candidate], where: str, day: str,
                  source: str = "") -> tuple[str, list[Candidate], list[Candidate]]:
    """The profile ``text`` with each candidate added as ``[[tables.T.foreign_keys]]`` with
    ``confirmed = false``, under a comment naming ``source`` and ``day``. What the text holds stays
    as it is, comments too: the new entries go in one block at the end (TOML allows an array of
    tables to go on there), or, where the text writes that table inline, into it. An entry for the
    same table, columns and target already there (confirmed or not) is left alone. Text in, text
    out (``where`` names the profile in errors). Returns (text, added, already there)."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ProfileError(where, [f"is not valid TOML: {exc}"]) from None
    tables = doc.get("tables")
    if tables is not None and not isinstance(tables, dict):
        raise ProfileError(where, ["tables: must be a table ([tables.NAME])"])
    added: list[Candidate] = []
    present: list[Candidate] = []
    inline = isinstance(tables, InlineTable)
    for c in candidates:
        entry = tables.get(c.table) if tables is not None else None
        if entry is not None and not isinstance(entry, dict):
            raise ProfileError(where, [f"tables.{c.table}: must be a table"])
        existing = entry.get("foreign_keys") if entry is not None else None
        if existing is not None and not isinstance(existing, list):
            raise ProfileError(where, [f"tables.{c.table}.foreign_keys: must be a list of tables"])
        if any(_same_relation(e, c) for e in existing or ()) or \
                any(a.table == c.table and _same_relation(_entry(a), c) for a in added):
            present.append(c)
            continue
        inline = inline or isinstance(entry, InlineTable) or (existing is not None and not isinstance(existing, AoT))
        added.append(c)
    if not added:
        return text, added, present
    try:
        if inline:  # a table or list the text writes inline cannot be continued further down: edit it in place
            _add_in_place(doc, added)
            out = tomlkit.dumps(doc)
        else:
            block = tomlkit.document()
            block.add(tomlkit.comment(f"Found in the data by uttrekk inspect --keys{f' ({source})' if source else ''} "
                                      f"on {day}: check each, then set confirmed = true or delete it."))
            _add_in_place(block, added)
            out = text + ("\n" if text and not text.endswith("\n") else "") + ("\n" if text.strip() else "") \
                + tomlkit.dumps(block).rstrip("\n") + "\n"
        tomlkit.parse(out)
    except TOMLKitError as exc:
        raise ProfileError(where, [f"cannot add the relations: {exc}"]) from None
    return out, added, present


def _entry(c: Candidate) -> dict[str, Any]:
    return {"columns": [c.column], "references": c.ref_table, "ref_columns": [c.ref_column], "confirmed": False,
            "evidence": f"{c.confidence}: {c.evidence()}"}


def _add_in_place(doc: Any, candidates: Sequence[Candidate]) -> None:
    if "tables" not in doc:
        doc["tables"] = tomlkit.table(is_super_table=True)
    tables = doc["tables"]
    for c in candidates:
        if c.table not in tables:
            tables[c.table] = tomlkit.inline_table() if isinstance(tables, InlineTable) else \
                tomlkit.table(is_super_table=True)
        entry = tables[c.table]
        existing = entry.get("foreign_keys")
        if isinstance(entry, InlineTable) or isinstance(existing, Array):
            item: Any = tomlkit.inline_table()
            item.update(_entry(c))
            if existing is None:
                entry["foreign_keys"] = tomlkit.array()
            entry["foreign_keys"].append(item)
        else:
            item = tomlkit.table()
            item.update(_entry(c))
            if existing is None:
                entry["foreign_keys"] = tomlkit.aot()
            entry["foreign_keys"].append(item)


def _same_relation(entry: Any, c: Candidate) -> bool:
    if not isinstance(entry, dict):
        return False
    cols = entry.get("columns")
    cols = [cols] if isinstance(cols, str) else list(cols or ())
    return [str(x) for x in cols] == [c.column] and str(entry.get("references")) == c.ref_table
