"""The targets' tests synthesize in the same throwaway project as the construct tests."""

from tests.constructs.conftest import project, synth  # noqa: F401 - fixtures
