"""Loading the bindings in the background."""

from __future__ import annotations

import pytest

from agentstrata.constructs.bindings import Preload


def test_preload_imports_in_the_background_and_reraises_on_wait():
    preload = Preload(["json", "no_such_module_strata"])
    with pytest.raises(ModuleNotFoundError, match="no_such_module_strata"):
        preload.wait()
