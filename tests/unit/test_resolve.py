"""Class resolution order: class object, dotted path, namespace, caller's globals, code file, built-ins."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.errors import ConfigError
from nuserve.resolve import load_code_module
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


CODE = "import nuserve\nclass FileModel(nuserve.V2ModelServer):\n    pass\n"


def test_code_file_found_by_name_in_a_code_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "models_in_dir.py").write_text(CODE)
    module = load_code_module("/somewhere/else/models_in_dir.py", [code_dir])
    assert module.__file__ == str((code_dir / "models_in_dir.py").resolve())


def test_code_file_cannot_climb_out_of_a_code_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code_dir = tmp_path / "deep" / "code"
    code_dir.mkdir(parents=True)
    (tmp_path / "deep" / "outside_models.py").write_text(CODE)
    with pytest.raises(ConfigError) as info:
        load_code_module("../outside_models.py", [code_dir])
    assert info.value.message == (
        f"function code file '../outside_models.py' leads out of the code directory {code_dir} "
        f"(to {tmp_path / 'deep' / 'outside_models.py'}); name a file inside it"
    )


def test_code_file_cannot_be_a_link_out_of_a_code_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (tmp_path / "real_models.py").write_text(CODE)
    (code_dir / "linked_models.py").symlink_to(tmp_path / "real_models.py")
    with pytest.raises(ConfigError, match="leads out of the code directory"):
        load_code_module("linked_models.py", [code_dir])


def test_code_file_as_named_by_the_spec_author_is_used_as_is(tmp_path, monkeypatch):
    (tmp_path / "named_models.py").write_text(CODE)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    module = load_code_module("../named_models.py", [elsewhere])
    assert module.__file__ == str((tmp_path / "named_models.py").resolve())
