"""Dataclasses to JSON-ready data and back, strictly typed: for what a run keeps on disk.

The work folder of an interrupted run is input from outside like any other: it is read back as
JSON, never as pickle (which runs code), and every value is checked against the dataclass's
declared types on the way in. Anything else (a missing or unknown key, a string where a number
belongs) raises ``ValueError``, and the caller redoes what the file described.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections import Counter
from typing import Any, TypeVar

T = TypeVar("T")


def dump(value: Any) -> Any:
    """JSON-ready data: dataclasses as objects, tuples as lists, dicts with other than text keys
    (a Counter of tuples) as lists of ``[key, value]`` pairs."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: dump(v) for k, v in value.items()}
        return [[dump(k), dump(v)] for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{type(value).__name__} cannot be kept as JSON")


def load(cls: type[T], data: Any) -> T:
    """An instance of dataclass ``cls`` from ``dump``'s output; ``ValueError`` on any mismatch."""
    return typing.cast(T, _load(cls, data, cls.__name__))


@functools.cache
def _shape(tp: Any) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """A dataclass's field types and fields, worked out once (``get_type_hints`` evaluates every
    annotation again on each call: a run of 20,000 tables reads their kept scans back)."""
    return typing.get_type_hints(tp), {f.name: f for f in dataclasses.fields(tp)}


@functools.cache
def _form(tp: Any) -> tuple[Any, tuple[Any, ...], bool]:
    """``tp``'s origin, arguments and whether it is a dataclass, worked out once per type."""
    return typing.get_origin(tp), typing.get_args(tp), dataclasses.is_dataclass(tp)


def _load(tp: Any, data: Any, where: str) -> Any:
    origin, args, is_dataclass = _form(tp)
    if is_dataclass:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: not an object")
        hints, fields = _shape(tp)
        unknown = set(data) - set(fields)
        missing = {n for n, f in fields.items() if n not in data and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING}
        if unknown or missing:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
        return tp(**{k: _load(hints[k], v, f"{where}.{k}") for k, v in data.items()})
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _load(option, data, where)
            except ValueError:
                continue
        raise ValueError(f"{where}: {data!r} is none of {tp}")
    if tp is type(None):
        if data is not None:
            raise ValueError(f"{where}: {data!r} is not null")
        return None
    if tp in (int, float, str, bool):
        ok = isinstance(data, tp) and not (tp is not bool and isinstance(data, bool))
        if tp is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if not ok:
            raise ValueError(f"{where}: {data!r} is not {tp.__name__}")
        return data
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(data, list):
            raise ValueError(f"{where}: not a list")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(data):
                raise ValueError(f"{where}: {len(data)} items where {len(args)} belong")
            return tuple(_load(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True)))
        item = args[0] if args else Any
        items = [_load(item, v, f"{where}[{i}]") for i, v in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Counter) or tp in (dict, Counter):
        counter = origin is Counter or tp is Counter
        key_tp = args[0] if args else Any
        value_tp = int if counter else args[1] if len(args) > 1 else Any
        pairs = data.items() if isinstance(data, dict) else data
        if not isinstance(data, dict | list):
            raise ValueError(f"{where}: not an object")
        out = {}
        for pair in pairs:
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                raise ValueError(f"{where}: not a [key, value] pair")
            out[_load(key_tp, pair[0], f"{where} key")] = _load(value_tp, pair[1], f"{where}[{pair[0]!r}]")
        return Counter(out) if counter else out
    if tp is Any:
        raise ValueError(f"{where}: untyped values are not read back")
    raise ValueError(f"{where}: type {tp} is not read back")
