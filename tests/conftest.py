"""Suite-wide settings."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_notebook_cache(tmp_path_factory: pytest.TempPathFactory):
    """Every run analyses notebooks afresh, in a cache of its own (subprocesses inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STRATA_CACHE_DIR", str(tmp_path_factory.mktemp("strata-cache")))
        yield
