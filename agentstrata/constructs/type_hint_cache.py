"""jsii's argument checks with each stub's type hints evaluated once, while constructs are being created.

jsii's Python bindings check every call's arguments (when ``__debug__``) against the hints of a
stub function, looking up ``typing.get_type_hints`` and re-evaluating the stub's string annotations
on each call: a third of the time spent creating a container. A stub's hints never change, so
inside :func:`cached_binding_type_hints` each is evaluated once; every other caller gets
``typing.get_type_hints`` itself, and the checks themselves still run.

The replacement is scoped, not installed at import: the outermost ``with`` puts it in place and
puts the original back on the way out, errors included. Nested and concurrent uses share one
count. Code that kept a reference to the replacement (say, a module imported by another thread
meanwhile) gets the plain function once every use has ended.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_STUB_PREFIX = "_typecheckingstub__"

_lock = threading.Lock()
_active = 0
#: The function the replacement stands in for: what was in place when the outermost use began.
_replaced: Callable[..., dict[str, Any]] = typing.get_type_hints
#: Stub -> its hints; kept between uses (the stubs live as long as their binding modules).
_hints: dict[Any, dict[str, Any]] = {}


def _cached_get_type_hints(obj: Any, globalns: Any = None, localns: Any = None,
                           include_extras: bool = False) -> dict[str, Any]:
    if _active and globalns is None and localns is None and not include_extras and \
            getattr(obj, "__name__", "").startswith(_STUB_PREFIX):
        hints = _hints.get(obj)
        if hints is None:
            hints = _hints[obj] = _replaced(obj)
        return hints
    return _replaced(obj, globalns, localns, include_extras)


@contextmanager
def cached_binding_type_hints() -> Iterator[None]:
    """While active, ``typing.get_type_hints`` remembers the hints of jsii's type-checking stubs."""
    global _active, _replaced
    with _lock:
        if _active == 0 and typing.get_type_hints is not _cached_get_type_hints:
            _replaced = typing.get_type_hints
            typing.get_type_hints = _cached_get_type_hints
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            # Only ours is taken back: a replacement someone installed meanwhile stays theirs.
            if _active == 0 and typing.get_type_hints is _cached_get_type_hints:
                typing.get_type_hints = _replaced
