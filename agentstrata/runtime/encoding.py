"""Canonical JSON encoding of output values.

One encoding serves two purposes: the bytes sent to consumers, and the content hash that versions
them. It must therefore be deterministic across processes: keys are sorted and sets are ordered
by their elements' encoding (Python's set order changes with hash randomisation).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python


class EncodingError(ValueError):
    """A value (or a part of it, named by ``where``) has no JSON form."""

    def __init__(self, reason: str, where: str) -> None:
        super().__init__(f"{reason} at {where}")
        self.reason = reason
        self.where = where


def encode_value(value: Any) -> bytes:
    """The canonical JSON bytes of ``value``; EncodingError names the first part that cannot be encoded.

    Never anything else: values are the notebook's, and their own conversion code may raise anything.
    """
    try:
        plain = _plain(value, "value", set())
    except RecursionError:
        raise EncodingError("nested too deeply", "value") from None
    except EncodingError:
        raise
    except Exception as exc:  # noqa: BLE001 - a user object failing in a way no converter below catches
        raise EncodingError(f"encoding raised {_exception_text(exc)}", "value") from None
    return dumps(plain)


def dumps(plain: Any) -> bytes:
    """Canonical JSON of already-plain data: sorted keys, no spaces, UTF-8."""
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _plain(value: Any, where: str, active: set[int]) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EncodingError(f"float {value} has no JSON form", where)
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value, where, active)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (Mapping, list, tuple, set, frozenset)) or dataclasses.is_dataclass(value):
        if id(value) in active:
            raise EncodingError("circular reference", where)
        active.add(id(value))
        try:
            return _container(value, where, active)
        finally:
            active.discard(id(value))
    if isinstance(value, BaseModel):
        return _plain(_converted(lambda: value.model_dump(mode="python"), value, where), where, active)
    if isinstance(value, Iterator):
        # Generators, file objects...: converting them would read them (or never end), and a closed file raises.
        raise EncodingError(f"object of type {type(value).__name__} (an iterator: encoding it would consume it)",
                            where)
    return _plain(_converted(lambda: _foreign(value, where), value, where), where, active)


def _container(value: Any, where: str, active: set[int]) -> Any:
    if isinstance(value, Mapping):
        return {_key(k, where): _plain(v, f"{where}[{k!r}]", active) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]", active) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [_plain(v, f"{where}[{v!r} in set]", active) for v in value]
        return sorted(items, key=dumps)
    return {
        f.name: _plain(getattr(value, f.name), f"{where}.{f.name}", active) for f in dataclasses.fields(value)
    }


def _key(key: Any, where: str) -> str:
    # The same conversions json.dumps applies to keys, so plain dicts encode as users expect.
    if isinstance(key, str):
        return key
    if isinstance(key, enum.Enum):
        return _key(key.value, where)
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, (int, float)):
        return json.dumps(key) if isinstance(key, int) else repr(key)
    raise EncodingError(f"dict key of type {type(key).__name__} ({key!r})", where)


def _converted(convert: Callable[[], Any], value: Any, where: str) -> Any:
    """``convert()``, where any failure of the value's own code becomes an EncodingError at ``where``."""
    try:
        return convert()
    except EncodingError:
        raise
    except Exception as exc:  # noqa: BLE001 - the value's own methods (model_dump, to_json...) may raise anything
        raise EncodingError(f"object of type {type(value).__name__} raised {_exception_text(exc)}", where) from None


def _exception_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _foreign(value: Any, where: str) -> Any:
    """Data-frame and array types (by module name, so pandas/polars/numpy are never imported here)."""
    package = type(value).__module__.split(".", 1)[0]
    if package == "pandas" and hasattr(value, "to_json"):
        # pandas' own JSON writer handles its dtypes (NaN -> null, timestamps -> ISO).
        orient = "records" if type(value).__name__ in ("DataFrame", "Series") else "split"
        return json.loads(value.to_json(orient=orient, date_format="iso"))
    if package == "polars" and type(value).__name__ == "DataFrame":
        return value.to_dicts()
    if package == "polars" and type(value).__name__ == "Series":
        return value.to_list()
    if package == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    try:
        plain = to_jsonable_python(value)
    except PydanticSerializationError:
        raise EncodingError(f"object of type {type(value).__name__}", where) from None
    if plain is value:
        raise EncodingError(f"object of type {type(value).__name__}", where)
    return plain
