"""Canonical JSON encoding of output values (agentstrata.runtime.encoding)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from pydantic import BaseModel

from agentstrata.runtime.encoding import EncodingError, encode_value


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    where: Path


class Model(BaseModel):
    name: str
    when: dt.date


class Opaque:
    pass


def decoded(value: object) -> object:
    return json.loads(encode_value(value))


def test_plain_data_round_trips() -> None:
    value = {"s": "text", "i": 1, "f": 1.5, "b": True, "n": None, "l": [1, [2]], "d": {"k": "v"}}
    assert decoded(value) == value


def test_keys_are_sorted_and_spacing_is_canonical() -> None:
    assert encode_value({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'


def test_datetimes_and_dates_become_iso_text() -> None:
    value = {"at": dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc), "on": dt.date(2024, 5, 1)}
    assert decoded(value) == {"at": "2024-05-01T12:30:00+00:00", "on": "2024-05-01"}


def test_pydantic_models_and_dataclasses_become_objects() -> None:
    value = [Model(name="m", when=dt.date(2024, 1, 2)), Point(1, Path("/tmp/x"))]
    assert decoded(value) == [{"name": "m", "when": "2024-01-02"}, {"x": 1, "where": "/tmp/x"}]


def test_sets_tuples_paths_and_enums() -> None:
    value = {"set": {3, 1, 2}, "tuple": (1, "a"), "path": PurePosixPath("/a/b"), "enum": Color.RED}
    assert decoded(value) == {"set": [1, 2, 3], "tuple": [1, "a"], "path": "/a/b", "enum": "red"}


def test_non_string_keys_become_json_keys() -> None:
    assert decoded({2: "a", True: "b", None: "c", Color.RED: "d"}) == {"2": "a", "true": "b", "null": "c", "red": "d"}


def test_set_order_does_not_depend_on_hash_randomisation() -> None:
    program = "from agentstrata.runtime.encoding import encode_value; print(encode_value({'x', 'y', 'z', 'w'}))"
    seen = {
        subprocess.run([sys.executable, "-c", program], env={"PYTHONHASHSEED": seed}, capture_output=True,
                       text=True, check=True).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert seen == {"b'[\"w\",\"x\",\"y\",\"z\"]'\n"}


def test_unencodable_object_is_named_with_its_path() -> None:
    with pytest.raises(EncodingError) as caught:
        encode_value({"a": [1, 2, 3, Opaque()]})
    assert str(caught.value) == "object of type Opaque at value['a'][3]"


def test_unencodable_dataclass_field_is_named_with_its_path() -> None:
    with pytest.raises(EncodingError) as caught:
        encode_value({"p": Point(1, Opaque())})  # type: ignore[arg-type]
    assert str(caught.value) == "object of type Opaque at value['p'].where"


def test_nan_is_refused() -> None:
    with pytest.raises(EncodingError) as caught:
        encode_value({"x": float("nan")})
    assert str(caught.value) == "float nan has no JSON form at value['x']"


def test_circular_reference_is_refused() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(EncodingError) as caught:
        encode_value(loop)
    assert str(caught.value) == "circular reference at value[0]"


def test_tuple_dict_key_is_refused() -> None:
    with pytest.raises(EncodingError) as caught:
        encode_value({"m": {(1, 2): "pair"}})
    assert str(caught.value) == "dict key of type tuple ((1, 2)) at value['m']"


def test_pandas_dataframe_becomes_records() -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is not installed here")
    frame = pandas.DataFrame({"a": [1, 2], "b": ["x", None]})
    assert decoded({"df": frame}) == {"df": [{"a": 1, "b": "x"}, {"a": 2, "b": None}]}


def test_polars_dataframe_becomes_records() -> None:
    polars = pytest.importorskip("polars", reason="polars is not installed here")
    frame = polars.DataFrame({"a": [1, 2], "b": ["x", None]})
    assert decoded(frame) == [{"a": 1, "b": "x"}, {"a": 2, "b": None}]


def test_a_closed_file_is_refused_not_raised(tmp_path: Path) -> None:
    with open(tmp_path / "f.txt", "w") as handle:
        handle.write("text")
    with pytest.raises(EncodingError) as caught:
        encode_value({"f": handle})
    assert str(caught.value) == "object of type TextIOWrapper (an iterator: encoding it would consume it) at value['f']"


def test_an_iterator_is_refused_and_left_unconsumed() -> None:
    numbers = (n for n in range(3))
    with pytest.raises(EncodingError) as caught:
        encode_value([numbers])
    assert str(caught.value) == "object of type generator (an iterator: encoding it would consume it) at value[0]"
    assert list(numbers) == [0, 1, 2]


def test_an_object_that_raises_while_encoded_is_refused() -> None:
    class Broken(BaseModel):
        name: str

        def model_dump(self, **_: object) -> dict:  # type: ignore[override]
            raise RuntimeError("cannot dump")

    with pytest.raises(EncodingError) as caught:
        encode_value({"b": Broken(name="x")})
    assert str(caught.value) == "object of type Broken raised RuntimeError: cannot dump at value['b']"
