"""The public API is exactly ``__all__``, and importing nuserve stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import nuserve

PUBLIC = {
    "BadGateway", "BadRequest", "BaseRouter", "ConfigError", "EpsilonGreedyRouter", "Event",
    "GraphServer", "LLModel", "MethodNotAllowed", "ModelError", "ModelRouter", "NotFound", "NotReady",
    "NuserveError", "ParallelRun", "PayloadTooLarge", "RemoteModel", "RemoteTimeout", "RequestTimeout",
    "Response", "ServingContext", "ServingFunction", "Step", "ThompsonSamplingRouter", "V2ModelServer",
    "VotingEnsemble", "WeightedRouter", "code_to_function", "import_function",
    "new_function",
    "MLRunBaseError", "MLRunInvalidArgumentError", "MLRunNotFoundError", "MLRunRuntimeError",
}  # fmt: skip


def test_all_is_exactly_the_public_api():
    assert set(nuserve.__all__) == PUBLIC
    for name in nuserve.__all__:
        assert getattr(nuserve, name) is not None


def test_error_tree_statuses():
    from nuserve import errors

    statuses = {
        cls.__name__: cls.status
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, nuserve.NuserveError)
    }
    assert statuses == {
        "NuserveError": 500, "BadRequest": 400, "NotFound": 404, "MethodNotAllowed": 405,
        "PayloadTooLarge": 413, "NotReady": 503, "ModelError": 500, "BadGateway": 502,
        "RemoteTimeout": 504, "RequestTimeout": 504, "ConfigError": 500,
        "MLRunBaseError": 500, "MLRunInvalidArgumentError": 500, "MLRunRuntimeError": 500,
        "MLRunNotFoundError": 404, "MLRunBadRequestError": 400, "MLRunTimeoutError": 504,
        "MLRunServiceUnavailableError": 503,
    }  # fmt: skip
    for name in statuses:
        assert f"{name} (" in errors.__doc__
    assert nuserve.NotReady("x").headers == {"Retry-After": "1"}
    assert nuserve.NotReady("x").retriable and not nuserve.BadRequest("x").retriable


def test_import_does_not_pull_heavy_or_optional_modules():
    code = "import sys, json, nuserve; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    forbidden = {"uvicorn", "confluent_kafka", "v3io", "fsspec", "sklearn", "yaml", "cloudpickle", "numpy",
                 "nuclio_sdk", "http.client", "email"}  # fmt: skip
    assert loaded.isdisjoint(forbidden), sorted(loaded & forbidden)


def test_what_a_served_graph_does_not_use_loads_on_first_use():
    """``nuserve serve`` of a plain model graph loads neither the function builder, the hub
    and notebook readers, nor the LLM and the other routers (start-up time and memory); each
    name still works when used."""
    code = (
        "import sys, json, nuserve\n"
        "from nuserve.cli import main\n"
        "from nuserve.server.builtins import BUILTINS\n"
        "before = sorted(sys.modules)\n"
        "names = {n: getattr(nuserve, n).__name__ for n in nuserve.__all__ if n[0].isupper()}\n"
        "print(json.dumps([before, names, {k: BUILTINS[k].__name__ for k in BUILTINS}]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, names, builtins = json.loads(out.stdout)
    lazy = {"nuserve.llm", "nuserve.function", "nuserve.hub", "nuserve.notebook",
            "nuserve.routers.bandit", "nuserve.routers.ensemble", "nuserve.routers.parallel",
            "nuserve.routers.remote", "nuserve.routers.weighted"}  # fmt: skip
    assert lazy.isdisjoint(loaded), sorted(lazy & set(loaded))
    assert names["LLModel"] == "LLModel" and names["ParallelRun"] == "ParallelRun"
    assert all(key == value for key, value in builtins.items())


def test_the_cli_names_the_hub_variable_the_hub_reads():
    from nuserve import hub
    from nuserve.cli import hub as cli_hub

    assert cli_hub.HUB_ENV == hub.HUB_ENV
