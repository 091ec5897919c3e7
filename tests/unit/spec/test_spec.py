"""The serving spec round-trips through dicts and JSON and names what is wrong with it."""

from __future__ import annotations

import re

import orjson
import pytest

import nuserve
from nuserve.spec.routers import class_ref
from nuserve.spec.serving import ServingSpec
from tests.models import Echo


def test_round_trip_through_json():
    fn = nuserve.new_function("s")
    fn.spec.parameters = {"threshold": 0.5}
    fn.spec.load_mode = "async"
    fn.add_model("a:v1", class_name=Echo, model_path="/models/a", scale=2)
    fn.add_model("a:v2", class_name="tests.models.Summer", default=True)
    data = fn.spec.serving_spec().to_dict()
    again = ServingSpec.from_dict(orjson.loads(orjson.dumps(data)))
    assert again.to_dict() == data
    assert data["graph"]["routes"][0] == {
        "key": "a:v1", "class_name": "tests.models.Echo", "model_path": "/models/a",
        "class_args": {"scale": 2},
    }
    assert data["graph"]["routes"][1]["default"] is True


def test_class_ref_names_importable_classes_and_keeps_bare_names():
    assert class_ref(Echo) == "tests.models.Echo"
    assert class_ref("Bare") == "Bare"

    class Local(Echo):
        pass

    assert class_ref(Local) == "Local"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "serving spec must be a JSON object (got list)"),
        ({"load_mode": "lazy"}, "load_mode must be 'sync' or 'async' (got 'lazy')"),
        ({"graph": {"kind": "dag"}}, "graph kind 'dag' is not supported"),
        ({"graph": {"routes": [{"class_name": "X"}]}}, "route spec has no 'key'"),
    ],
)
def test_bad_specs_say_what_is_wrong(data, message):
    with pytest.raises(nuserve.ConfigError, match=re.escape(message)):
        ServingSpec.from_dict(data)
