"""Properties of the one YAML reader: whatever the text, it returns plain data or raises a located yaml error;
within the limits it reads what yaml.safe_load reads; nesting past the limit is always refused."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from agentstrata.yaml_source import MAX_DEPTH, RefusedYAML, compose, load_plain

SETTINGS = settings(max_examples=300, deadline=None)

#: Pieces of YAML syntax, the ones that nest, alias and merge included.
FRAGMENTS = [
    "a:", "- ", "  ", "\n", "[", "]", "{", "}", ", ", ": ", "? ", "&a ", "*a", "&b ", "*b", "<<: ", "<<: *a",
    "!!str ", "!!int ", "!!map ", "!!python/object:os.system ", "!x ", '"', "'", "#", "|", ">", "---", "...",
    "%YAML 1.1", "0x1F", "1_000", "1:30", ".inf", "~", "null", "yes", "2025-03-03T09:12:00Z", "9" * 50, "\t",
    "\u2028", "\ufeff",
]

plain_scalars = st.one_of(
    st.text(max_size=10), st.integers(-(10**20), 10**20), st.booleans(), st.none(), st.floats(allow_nan=False),
)
plain_data = st.recursive(
    plain_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=30,
)


def read(text: str) -> None:
    """Reads ``text`` both ways; only a yaml error may come out, and a refusal is located."""
    try:
        compose(text)
        load_plain(text)
    except RefusedYAML as exc:
        assert exc.problem_mark is not None and exc.problem
    except yaml.YAMLError:
        pass


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_gives_data_or_a_yaml_error(text: str):
    read(text)


@SETTINGS
@given(text=st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_yaml_shaped_text_gives_data_or_a_yaml_error(text: str):
    read(text)


@SETTINGS
@given(opening=st.lists(st.sampled_from(["[", "{a: ", "- ", "{<<: ", "[&x ", "? "]), min_size=1, max_size=200))
def test_any_nesting_gives_data_or_a_yaml_error(opening: list[str]):
    closing = "".join({"[": "]", "{a: ": "}", "{<<: ": "}", "[&x ": "]"}.get(o, "") for o in reversed(opening))
    read("".join(opening) + "1" + closing)


@SETTINGS
@given(data=plain_data)
def test_within_the_limits_it_reads_what_safe_load_reads(data: object):
    text = yaml.safe_dump(data, allow_unicode=True)
    assert load_plain(text) == yaml.safe_load(text)


@SETTINGS
@given(depth=st.integers(1, 3 * MAX_DEPTH), flow=st.booleans())
def test_nesting_is_read_up_to_the_limit_and_refused_past_it(depth: int, flow: bool):
    text = "[" * depth + "]" * depth if flow else "- " * depth + "x"
    try:
        load_plain(text)
    except RefusedYAML as exc:
        assert depth > MAX_DEPTH
        assert exc.problem.startswith(f"nested deeper than {MAX_DEPTH} levels")
    else:
        assert depth <= MAX_DEPTH
