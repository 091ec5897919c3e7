"""Nuclio's HTTP trigger lets through bodies a little over nuserve's limit, so nuserve answers 413."""

from __future__ import annotations

import logging

import orjson
import pytest
import yaml
from nuclio_sdk.test import Platform

import handler as root_handler
import nuserve
from nuserve.function.serving_function import function_from_yaml
from nuserve.nuclio.function_config import NUCLIO_TOO_LARGE, function_config, trigger_body_limit
from nuserve.nuclio.spec_env import SPEC_ENV
from tests import nuclio_wrapper as wrapper


def generated(max_body_size: int) -> dict:
    fn = nuserve.new_function("lim").with_http(max_body_size=max_body_size)
    fn.add_model("e", class_name="tests.models.Echo")
    return function_config(fn)


@pytest.mark.parametrize("limit", [1000, 4 * 1024 * 1024, 64 * 1024 * 1024])
def test_the_trigger_limit_is_above_nuserves_by_at_least_a_mib(limit):
    nuclio_limit = generated(limit)["spec"]["triggers"]["http"]["attributes"]["maxRequestBodySize"]
    assert nuclio_limit == trigger_body_limit(limit)
    assert nuclio_limit >= limit + 1024 * 1024 and nuclio_limit >= 2 * limit


def test_a_body_between_the_two_limits_gets_nuserves_json_413(monkeypatch):
    config = generated(1000)
    env = {e["name"]: e["value"] for e in config["spec"]["env"] if "value" in e}
    monkeypatch.setenv(SPEC_ENV, env[SPEC_ENV])
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    nuclio_limit = config["spec"]["triggers"]["http"]["attributes"]["maxRequestBodySize"]
    raw = orjson.dumps({"inputs": ["x" * 2000]})
    assert 1000 < len(raw) <= nuclio_limit  # Nuclio passes it on to the handler
    try:
        response = Platform().call_handler(root_handler.handler, wrapper.http_event(raw, "/v2/models/e/infer"))
    finally:
        logging.getLogger("nuserve").handlers.clear()
        logging.getLogger("nuserve").propagate = True
    assert (response.status_code, response.content_type) == (413, "application/json")
    body = orjson.loads(response.body)
    assert set(body) == {"error", "id"} and "over the limit of 1000 bytes" in body["error"]
    assert NUCLIO_TOO_LARGE[0] != 413  # past its own limit Nuclio answers, not nuserve


def test_the_derived_limit_round_trips_and_a_hand_set_one_is_kept(tmp_path):
    fn = nuserve.new_function("lim").with_http(max_body_size=5000)
    fn.add_model("e", class_name="tests.models.Echo")
    path = tmp_path / "function.yaml"
    path.write_text(fn.to_yaml())
    again = function_from_yaml(path)
    assert again.spec.max_body_size == 5000 and "maxRequestBodySize" not in again.spec.http_attributes
    assert again.to_yaml() == fn.to_yaml()
    doc = yaml.safe_load(fn.to_yaml())
    doc["spec"]["triggers"]["http"]["attributes"]["maxRequestBodySize"] = 100_000
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    edited = function_from_yaml(path)
    assert edited.spec.max_body_size == 5000
    assert function_config(edited)["spec"]["triggers"]["http"]["attributes"]["maxRequestBodySize"] == 100_000
    edited.with_http(max_body_size=7000)  # a new limit derives Nuclio's again
    assert function_config(edited)["spec"]["triggers"]["http"]["attributes"]["maxRequestBodySize"] == trigger_body_limit(7000)
