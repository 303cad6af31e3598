"""Profile files: reading one, and resolving ``extends`` so a municipality's profile can build on a
shared system profile. Tables merge key by key; every key path remembers the file it came from,
so a problem in an inherited key names that file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import ProfileError


def read_with_parents(path: Path) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The profile at ``path`` merged over the files it extends; the file each inherited key path
    came from; and the problems found on the way (missing files, cycles)."""
    problems: list[str] = []
    merged, origins = _resolve(_read_toml(path, str(path)), path, (_norm(path),), problems)
    inherited = {k: file for k, file in origins.items() if file != _norm(path)}
    return merged, inherited, problems


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(shown, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(shown, [f"cannot be read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(shown, [f"is not valid TOML: {exc}"]) from None


def _norm(path: Path) -> str:
    """How a profile file is named in messages: its path as given, ``..`` resolved."""
    return os.path.normpath(path)


def _resolve(data: dict[str, Any], path: Path, chain: tuple[str, ...],
             problems: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``data`` (read from ``path``) merged over the profiles it extends, in their order, and the
    file each key path comes from. A missing file or a cycle is a problem naming the chain."""
    parents = data.get("extends", [])
    data = {k: v for k, v in data.items() if k != "extends"}
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(x, str) and x for x in parents):
        problems.append(f"extends (in {chain[-1]}): must be a profile file or a list of them, not {parents!r}")
        parents = []
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for parent in parents:
        file = _norm(path.parent / parent)
        if file in chain:
            problems.append(f"extends: cycle {' -> '.join((*chain[chain.index(file):], file))}; "
                            "remove one of these extends")
            continue
        try:
            with open(file, "rb") as fh:
                parent_data = tomllib.load(fh)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            why = "file not found" if isinstance(exc, FileNotFoundError) else f"cannot be read: {exc}"
            problems.append(f"extends: {file} ({' -> '.join((*chain, file))}): {why}")
            continue
        _merge(merged, origins, *_resolve(parent_data, Path(file), (*chain, file), problems), "")
    own: dict[str, str] = {}
    _mark(own, "", data, chain[-1])
    _merge(merged, origins, data, own, "")
    return merged, origins


def _merge(base: dict[str, Any], origins: dict[str, str], over: dict[str, Any], over_origins: dict[str, str],
           prefix: str) -> None:
    """Merge ``over`` into ``base`` in place, tables key by key and any other value replaced, and
    the origins with them (a table filled from more than one file has none of its own)."""
    for key, value in over.items():
        where = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = dict(base[key])
            _merge(base[key], origins, value, over_origins, where)
            if origins.get(where) != over_origins.get(where):
                origins.pop(where, None)
        else:
            base[key] = value
            for old in [k for k in origins if _within(k, where)]:
                del origins[old]
            origins.update({k: f for k, f in over_origins.items() if _within(k, where)})


def _within(key: str, where: str) -> bool:
    return key == where or key.startswith((f"{where}.", f"{where}["))


def _mark(origins: dict[str, str], prefix: str, value: dict[str, Any], file: str) -> None:
    for key, inner in value.items():
        where = f"{prefix}.{key}" if prefix else key
        origins[where] = file
        if isinstance(inner, dict):
            _mark(origins, where, inner, file)


def origin_of(where: str, origins: dict[str, str]) -> str | None:
    """The file a key path was inherited from: the longest recorded prefix of ``where``."""
    while where:
        if where in origins:
            return origins[where]
        cut = max(where.rfind("."), where.rfind("["))
        where = where[:cut] if cut > 0 else ""
    return None


def placed(problem: str, origins: dict[str, str]) -> str:
    where, sep, message = problem.partition(": ")
    origin = origin_of(where, origins) if sep and " " not in where else None
    return f"{where} (from {origin}){sep}{message}" if origin else problem
