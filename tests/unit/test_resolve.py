"""Class resolution order: class object, dotted path, namespace, caller's globals, code file, built-ins."""

from __future__ import annotations

import pytest

import nuserve
from tests.models import Echo


class LocalEcho(Echo):
    """Found through the caller's globals (this module)."""


def serve(class_name, namespace=None, filename=None):
    fn = nuserve.code_to_function("r", filename=filename) if filename else nuserve.new_function("r")
    fn.add_model("m", class_name=class_name)
    return fn.to_mock_server(namespace=namespace)


def answer(server):
    return server.test("/v2/models/m/infer", {"inputs": [1]})["outputs"]


def test_class_object_and_dotted_path():
    assert answer(serve(Echo)) == [1]
    assert answer(serve("tests.models.Echo")) == [1]


def test_bare_name_from_the_callers_globals():
    assert type(serve("LocalEcho").root.routes["m"]) is LocalEcho


def test_explicit_namespace_wins_over_globals():
    class Other(Echo):
        pass

    server = serve("LocalEcho", namespace={"LocalEcho": Other})
    assert type(server.root.routes["m"]) is Other


def test_bare_name_from_the_function_code_file(tmp_path):
    code = tmp_path / "my_models.py"
    code.write_text(
        "import nuserve\n"
        "class FileModel(nuserve.V2ModelServer):\n"
        "    def predict(self, request):\n"
        "        return ['from-file']\n"
    )
    assert answer(serve("FileModel", filename=str(code))) == ["from-file"]


def test_builtins_resolve_by_bare_name():
    fn = nuserve.new_function("r")
    fn.set_topology("router", class_name="ModelRouter")
    fn.add_model("m", class_name=Echo)
    assert answer(fn.to_mock_server()) == [1]


def test_unknown_class_lists_where_it_looked():
    with pytest.raises(nuserve.ConfigError) as info:
        serve("NoSuchModel")
    message = str(info.value)
    assert message.startswith("class 'NoSuchModel' not found; looked in: ")
    assert "the caller's globals" in message and "nuserve built-ins" in message
    with pytest.raises(nuserve.ConfigError, match=r"import nowhere\.Model"):
        serve("nowhere.Model")


def test_non_model_classes_are_refused():
    with pytest.raises(nuserve.ConfigError, match="is not a V2ModelServer"):
        serve(dict)
