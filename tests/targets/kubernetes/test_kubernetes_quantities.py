"""CPU and memory in the canonical form the API server stores, so that a plan after an apply shows no change."""

from __future__ import annotations

import pytest

from agentstrata.targets.kubernetes.quantities import canonical_cpu, canonical_memory


@pytest.mark.parametrize(("given", "stored"), [
    ("1", "1"), ("2.0", "2"), ("1.5", "1500m"), ("0.5", "500m"), ("250m", "250m"), ("1000m", "1"),
])
def test_cpu_is_whole_cores_or_millicores(given: str, stored: str):
    assert canonical_cpu(given) == stored


@pytest.mark.parametrize(("given", "stored"), [
    ("1Gi", "1Gi"), ("1.5Gi", "1536Mi"), ("512Mi", "512Mi"), ("1024Mi", "1Gi"), ("1.5Ki", "1536"),
    ("1G", "1G"), ("1.5G", "1500M"), ("1500000000", "1500M"), ("1000", "1k"), ("123", "123"),
])
def test_memory_keeps_the_largest_suffix_of_its_kind_that_divides_it(given: str, stored: str):
    assert canonical_memory(given) == stored
