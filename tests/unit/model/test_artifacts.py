"""Model artifact resolution: local files, directories, spec yamls, remote (fsspec) paths."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from nuserve.errors import ConfigError
from nuserve.model.artifacts import Feature, ModelSpec, get_model


def write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_spec(directory: Path, data: dict[str, object], name: str = "model_spec.yaml") -> Path:
    return write(directory / name, yaml.safe_dump(data))


# ---------------------------------------------------------------- plain files


def test_file_path_with_suffix(tmp_path):
    model = write(tmp_path / "m.pkl")
    assert get_model(str(model), suffix=".pkl") == (str(model), {}, None)


def test_any_file_when_no_suffix(tmp_path):
    model = write(tmp_path / "weights.bin")
    assert get_model(str(model)) == (str(model), {}, None)


def test_file_with_wrong_suffix(tmp_path):
    model = write(tmp_path / "m.onnx")
    with pytest.raises(ConfigError, match=r"m\.onnx does not end with '\.pkl'"):
        get_model(str(model), suffix=".pkl")


def test_file_url_prefix_is_stripped(tmp_path):
    model = write(tmp_path / "m.pkl")
    assert get_model(f"file://{model}", suffix=".pkl")[0] == str(model)


def test_relative_path_resolved_against_cwd(tmp_path, monkeypatch):
    model = write(tmp_path / "models" / "m.pkl")
    monkeypatch.chdir(tmp_path)
    assert get_model("models/m.pkl")[0] == str(model)
    assert get_model("file://models")[0] == str(model)


def test_missing_path(tmp_path):
    missing = tmp_path / "nope" / "m.pkl"
    with pytest.raises(ConfigError) as info:
        get_model(str(missing))
    assert info.value.message == f"model path {missing} does not exist (looked for {missing})"
    assert info.value.status == 500


def test_missing_relative_path_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"model path x/m\.pkl does not exist") as info:
        get_model("x/m.pkl")
    assert str(tmp_path / "x" / "m.pkl") in info.value.message


# ---------------------------------------------------------------- directories


def test_directory_first_match_and_extra_data(tmp_path):
    write(tmp_path / "b.pkl")
    write(tmp_path / "a.pkl")
    write(tmp_path / "vocab.txt")
    write(tmp_path / ".hidden")
    (tmp_path / "subdir").mkdir()
    model, extra, spec = get_model(str(tmp_path), suffix=".pkl")
    assert model == str(tmp_path / "a.pkl")
    assert extra == {"b.pkl": str(tmp_path / "b.pkl"), "vocab.txt": str(tmp_path / "vocab.txt")}
    assert spec is None


def test_directory_without_suffix_takes_first_file(tmp_path):
    write(tmp_path / "z.bin")
    write(tmp_path / "a.json")
    model, extra, _ = get_model(str(tmp_path))
    assert model == str(tmp_path / "a.json")
    assert list(extra) == ["z.bin"]


def test_directory_without_match(tmp_path):
    directory = tmp_path / "model"
    write(directory / "b.json")
    write(directory / "a.txt")
    with pytest.raises(ConfigError) as info:
        get_model(str(directory), suffix=".pkl")
    assert info.value.message == (
        f"no file ending in '.pkl' in directory {directory} (found: a.txt, b.json); "
        "pass a suffix that matches or set model_file in model_spec.yaml"
    )


def test_empty_directory(tmp_path):
    with pytest.raises(ConfigError, match=r"no model file in directory .* \(found: nothing\)"):
        get_model(str(tmp_path))


@pytest.mark.parametrize("name", ["model_spec.yaml", "model.yaml"])
def test_directory_with_spec(tmp_path, name):
    write(tmp_path / "other.pkl")
    write(tmp_path / "real.pkl")
    write(tmp_path / "data" / "vocab.txt")
    spec_data = {"model_file": "real.pkl", "extra_data": {"vocab": "data/vocab.txt"}}
    write_spec(tmp_path, spec_data, name)
    model, extra, spec = get_model(str(tmp_path), suffix=".pkl")
    assert model == str(tmp_path / "real.pkl")
    assert extra == {"vocab": str(tmp_path / "data" / "vocab.txt")}
    assert spec is not None
    assert spec.model_file == "real.pkl"


def test_model_spec_yaml_wins_over_model_yaml(tmp_path):
    write(tmp_path / "a.pkl")
    write(tmp_path / "b.pkl")
    write_spec(tmp_path, {"model_file": "a.pkl"})
    write_spec(tmp_path, {"model_file": "b.pkl"}, "model.yaml")
    assert get_model(str(tmp_path))[0] == str(tmp_path / "a.pkl")


def test_spec_without_model_file_falls_back_to_suffix(tmp_path):
    write(tmp_path / "b.pkl")
    write(tmp_path / "a.txt")
    write_spec(tmp_path, {"framework": "sklearn"})
    model, extra, spec = get_model(str(tmp_path), suffix=".pkl")
    assert model == str(tmp_path / "b.pkl")
    assert extra == {}
    assert spec is not None
    assert spec.framework == "sklearn"


def test_spec_fallback_never_picks_the_spec_itself(tmp_path):
    write_spec(tmp_path, {"framework": "x"})
    with pytest.raises(ConfigError, match=r"no model file in directory .*found: model_spec.yaml"):
        get_model(str(tmp_path))


# ---------------------------------------------------------------- spec yaml paths


@pytest.mark.parametrize("name", ["model_spec.yaml", "model.yaml", "my-model.yml", "x.yaml"])
def test_path_to_spec_yaml(tmp_path, name):
    write(tmp_path / "m.pkl")
    spec_file = write_spec(tmp_path, {"model_file": "m.pkl", "metrics": {"acc": 0.9}}, name)
    model, extra, spec = get_model(str(spec_file), suffix=".pkl")
    assert model == str(tmp_path / "m.pkl")
    assert extra == {}
    assert spec is not None
    assert spec.metrics == {"acc": 0.9}


def test_yaml_without_model_file_is_a_plain_model_file(tmp_path):
    config = write(tmp_path / "config.yaml", "a: 1\n")
    assert get_model(str(config)) == (str(config), {}, None)


def test_yaml_matching_the_suffix_is_the_model(tmp_path):
    model = write_spec(tmp_path, {"model_file": "other.bin"}, "weights.yaml")
    assert get_model(str(model), suffix=".yaml") == (str(model), {}, None)


def test_spec_model_file_with_wrong_suffix(tmp_path):
    write(tmp_path / "m.onnx")
    spec_file = write_spec(tmp_path, {"model_file": "m.onnx"})
    message = r"model_file in .*model_spec\.yaml: 'm\.onnx' does not end with '\.pkl'"
    with pytest.raises(ConfigError, match=message):
        get_model(str(spec_file), suffix=".pkl")


def test_spec_model_file_missing(tmp_path):
    spec_file = write_spec(tmp_path, {"model_file": "gone.pkl"})
    with pytest.raises(ConfigError) as info:
        get_model(str(tmp_path))
    assert info.value.message == (
        f"model_file in {spec_file}: {tmp_path / 'gone.pkl'} does not exist"
    )


def test_spec_extra_data_missing(tmp_path):
    write(tmp_path / "m.pkl")
    write_spec(tmp_path, {"model_file": "m.pkl", "extra_data": {"vocab": "vocab.txt"}})
    with pytest.raises(ConfigError, match=r"extra_data\['vocab'\] in .*vocab\.txt does not exist"):
        get_model(str(tmp_path))


def test_broken_spec_yaml(tmp_path):
    write(tmp_path / "model_spec.yaml", "model_file: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot read model spec"):
        get_model(str(tmp_path))


def test_spec_yaml_that_is_not_a_mapping(tmp_path):
    write(tmp_path / "model_spec.yaml", "- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a yaml mapping, got list"):
        get_model(str(tmp_path))


def test_spec_type_error_names_the_file(tmp_path):
    spec_file = write_spec(tmp_path, {"model_file": ["m.pkl"]})
    with pytest.raises(ConfigError) as info:
        get_model(str(tmp_path))
    assert info.value.message.startswith(f"{spec_file}: model spec field model_file must be a str")


# ---------------------------------------------------------------- escapes


@pytest.mark.parametrize(
    "data",
    [
        {"model_file": "../outside.pkl"},
        {"model_file": "sub/../../outside.pkl"},
        {"model_file": "m.pkl", "extra_data": {"x": "../outside.pkl"}},
    ],
)
def test_spec_paths_cannot_escape(tmp_path, data):
    directory = tmp_path / "model"
    write(directory / "m.pkl")
    write(tmp_path / "outside.pkl")
    write_spec(directory, data)
    with pytest.raises(ConfigError, match=r"escapes the model directory") as info:
        get_model(str(directory))
    assert "outside.pkl" in info.value.message


@pytest.mark.parametrize(
    "data",
    [
        {"model_file": "/etc/passwd"},
        {"model_file": "m.pkl", "extra_data": {"x": "/etc/passwd"}},
    ],
)
def test_spec_paths_cannot_be_absolute(tmp_path, data):
    write(tmp_path / "m.pkl")
    write_spec(tmp_path, data)
    with pytest.raises(ConfigError, match=r"'/etc/passwd' must be relative to the spec's dir"):
        get_model(str(tmp_path))


def test_spec_paths_cannot_escape_through_a_symlink(tmp_path):
    directory = tmp_path / "model"
    write(tmp_path / "outside.pkl")
    directory.mkdir()
    (directory / "link.pkl").symlink_to(tmp_path / "outside.pkl")
    write_spec(directory, {"model_file": "link.pkl"})
    with pytest.raises(ConfigError, match="escapes the model directory"):
        get_model(str(directory))


def test_model_file_cannot_be_a_url(tmp_path):
    write_spec(tmp_path, {"model_file": "s3://bucket/m.pkl"})
    with pytest.raises(ConfigError, match=r"'s3://bucket/m\.pkl' must be relative to the spec"):
        get_model(str(tmp_path))


# ---------------------------------------------------------------- ModelSpec


MLRUN_ARTIFACT = {
    "kind": "model",
    "metadata": {"key": "iris", "project": "p", "labels": {"team": "ml"}},
    "spec": {
        "model_file": "model.pkl",
        "extra_data": {"vocab": "vocab.txt"},
        "parameters": {"C": 1.0},
        "metrics": {"accuracy": 0.97},
        "inputs": [{"name": "x", "value_type": "float", "dims": [4]}],
        "outputs": [{"name": "label", "value_type": "int"}],
        "feature_stats": {"x": {"mean": 1.0}},
        "framework": "sklearn",
        "algorithm": "SVC",
        "unknown_field": 1,
    },
    "status": {"state": "created"},
}


def test_mlrun_nested_spec():
    spec = ModelSpec.from_dict(MLRUN_ARTIFACT)
    assert spec.model_file == "model.pkl"
    assert spec.extra_data == {"vocab": "vocab.txt"}
    assert spec.parameters == {"C": 1.0}
    assert spec.metrics == {"accuracy": 0.97}
    assert spec.inputs == [Feature("x", "float", [4])]
    assert spec.outputs == [Feature("label", "int")]
    assert spec.feature_stats == {"x": {"mean": 1.0}}
    assert spec.labels == {"team": "ml"}
    assert (spec.framework, spec.algorithm) == ("sklearn", "SVC")


def test_mlrun_nested_spec_file_resolves(tmp_path):
    write(tmp_path / "model.pkl")
    write(tmp_path / "vocab.txt")
    write_spec(tmp_path, MLRUN_ARTIFACT, "model.yaml")
    model, extra, spec = get_model(str(tmp_path), suffix=".pkl")
    assert model == str(tmp_path / "model.pkl")
    assert extra == {"vocab": str(tmp_path / "vocab.txt")}
    assert spec is not None
    assert spec.labels == {"team": "ml"}


def test_from_dict_flat_and_tolerant():
    spec = ModelSpec.from_dict({"model_file": "m.pkl", "whatever": [1], "labels": None})
    assert spec == ModelSpec(model_file="m.pkl")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"spec": "x"}, "'spec' must be a mapping, got str"),
        ({"model_file": 3}, "field model_file must be a str, got int 3"),
        ({"parameters": [1]}, "field parameters must be a dict, got list"),
        ({"extra_data": {"v": 1}}, "field extra_data['v'] must be a str, got int"),
        ({"inputs": {"x": 1}}, "field inputs must be a list, got dict"),
        ({"inputs": [{"dims": [1]}]}, "field inputs[0] must be a mapping with a 'name' string"),
        ({"outputs": [{"name": "y", "dims": ["a"]}]}, "outputs[0].dims must be a list of ints"),
        ({"outputs": [{"name": "y", "value_type": 1}]}, "outputs[0].value_type must be a str"),
    ],
)
def test_from_dict_type_errors(data, message):
    with pytest.raises(ConfigError) as info:
        ModelSpec.from_dict(data)
    assert message in info.value.message


def test_to_dict_save_round_trip(tmp_path):
    spec = ModelSpec.from_dict(MLRUN_ARTIFACT)
    path = spec.save(tmp_path)
    assert path == tmp_path / "model_spec.yaml"
    loaded = yaml.safe_load(path.read_text())
    assert loaded["inputs"] == [{"name": "x", "value_type": "float", "dims": [4]}]
    assert ModelSpec.from_dict(loaded) == spec
    assert spec.save(tmp_path / "custom.yaml") == tmp_path / "custom.yaml"
    assert ModelSpec.from_dict(yaml.safe_load((tmp_path / "custom.yaml").read_text())) == spec


def test_saved_spec_is_found_by_get_model(tmp_path):
    write(tmp_path / "m.pkl")
    ModelSpec(model_file="m.pkl", framework="sklearn").save(tmp_path)
    model, _, spec = get_model(str(tmp_path))
    assert model == str(tmp_path / "m.pkl")
    assert spec is not None
    assert spec.framework == "sklearn"


# ---------------------------------------------------------------- remote (fsspec memory://)


@pytest.fixture
def memfs():
    """An in-memory fsspec filesystem under a unique root, removed afterwards."""
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    root = f"/nuserve-test-{uuid.uuid4().hex}"
    yield fs, root
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_remote_file_downloaded_and_cached(memfs, tmp_path):
    fs, root = memfs
    fs.pipe_file(f"{root}/m.pkl", b"weights")
    url = f"memory://{root}/m.pkl"
    cache = tmp_path / "cache"
    model, extra, spec = get_model(url, suffix=".pkl", cache_dir=str(cache))
    assert Path(model).read_bytes() == b"weights"
    assert Path(model).name == "m.pkl"
    assert Path(model).parent.parent == cache
    assert (extra, spec) == ({}, None)
    fs.rm(f"{root}/m.pkl")  # the second call must not touch the source
    assert get_model(url, suffix=".pkl", cache_dir=str(cache))[0] == model
    assert sorted(cache.rglob("*")) == [Path(model).parent, Path(model)]  # no partial files left


def test_remote_cache_dir_from_env(memfs, tmp_path, monkeypatch):
    fs, root = memfs
    fs.pipe_file(f"{root}/m.pkl", b"w")
    monkeypatch.setenv("NUSERVE_MODEL_CACHE", str(tmp_path / "env-cache"))
    model = get_model(f"memory://{root}/m.pkl")[0]
    assert Path(model).is_relative_to(tmp_path / "env-cache")


def test_remote_spec_yaml_with_extra_data(memfs, tmp_path):
    fs, root = memfs
    fs.pipe_file(f"{root}/model/m.pkl", b"weights")
    fs.pipe_file(f"{root}/model/data/vocab.txt", b"a b c")
    fs.pipe_file(f"{root}/other/labels.txt", b"cat dog")
    spec_data = {
        "kind": "model",
        "spec": {
            "model_file": "m.pkl",
            "extra_data": {
                "vocab": "data/vocab.txt",
                "labels": f"memory://{root}/other/labels.txt",
            },
        },
    }
    fs.pipe_file(f"{root}/model/model_spec.yaml", yaml.safe_dump(spec_data).encode())
    model, extra, spec = get_model(
        f"memory://{root}/model/model_spec.yaml", suffix=".pkl", cache_dir=str(tmp_path)
    )
    assert Path(model).read_bytes() == b"weights"
    assert Path(extra["vocab"]).read_bytes() == b"a b c"
    assert Path(extra["labels"]).read_bytes() == b"cat dog"
    assert spec is not None
    assert spec.model_file == "m.pkl"


def test_local_spec_with_remote_extra_data(memfs, tmp_path):
    fs, root = memfs
    fs.pipe_file(f"{root}/vocab.txt", b"vocab")
    write(tmp_path / "m.pkl")
    write_spec(tmp_path, {"model_file": "m.pkl", "extra_data": {"v": f"memory://{root}/vocab.txt"}})
    _, extra, _ = get_model(str(tmp_path), cache_dir=str(tmp_path / ".cache"))
    assert Path(extra["v"]).read_bytes() == b"vocab"


def test_remote_spec_cannot_escape(memfs, tmp_path):
    fs, root = memfs
    fs.pipe_file(f"{root}/model/model_spec.yaml", b"model_file: ../secret.pkl\n")
    with pytest.raises(ConfigError, match=r"'\.\./secret\.pkl' escapes the model directory"):
        get_model(f"memory://{root}/model/model_spec.yaml", cache_dir=str(tmp_path))


def test_remote_spec_needs_model_file(memfs, tmp_path):
    fs, root = memfs
    fs.pipe_file(f"{root}/model/model_spec.yaml", b"framework: x\n")
    with pytest.raises(ConfigError, match="has no model_file; a remote spec must name it"):
        get_model(f"memory://{root}/model/model_spec.yaml", cache_dir=str(tmp_path))


def test_remote_missing(memfs, tmp_path):
    _, root = memfs
    url = f"memory://{root}/nope.pkl"
    with pytest.raises(ConfigError) as info:
        get_model(url, cache_dir=str(tmp_path))
    assert info.value.message == f"model path {url} does not exist"


def test_remote_directory_is_refused(memfs, tmp_path):
    fs, root = memfs
    fs.pipe_file(f"{root}/dir/m.pkl", b"w")
    with pytest.raises(ConfigError, match="is a directory; point to the model file"):
        get_model(f"memory://{root}/dir", cache_dir=str(tmp_path))


def test_remote_wrong_suffix(memfs, tmp_path):
    fs, root = memfs
    fs.pipe_file(f"{root}/m.onnx", b"w")
    with pytest.raises(ConfigError, match=r"does not end with '\.pkl'"):
        get_model(f"memory://{root}/m.onnx", suffix=".pkl", cache_dir=str(tmp_path))


def test_remote_without_fsspec(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec", None)  # makes `import fsspec` raise ImportError
    with pytest.raises(ConfigError) as info:
        get_model("s3://bucket/model.pkl", cache_dir=str(tmp_path))
    assert info.value.message == (
        "model path s3://bucket/model.pkl needs fsspec; pip install 'nuserve[remote]'"
    )


def test_import_does_not_import_fsspec():
    code = "import sys, nuserve.model.artifacts; assert 'fsspec' not in sys.modules, 'fsspec imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_remote_unknown_protocol(tmp_path):
    pytest.importorskip("fsspec")
    with pytest.raises(ConfigError, match=r"cannot download model path nosuchproto://x/m\.pkl"):
        get_model("nosuchproto://x/m.pkl", cache_dir=str(tmp_path))


def test_remote_backend_not_installed(tmp_path, monkeypatch):
    pytest.importorskip("fsspec")
    # s3 is a known protocol whose backend (s3fs) is imported on first use: make that fail
    monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)
    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(ConfigError, match=r"cannot download model path s3://bucket/m\.pkl: "):
        get_model("s3://bucket/m.pkl", cache_dir=str(tmp_path))


def test_remote_default_cache_layout(memfs, tmp_path, monkeypatch):
    fs, root = memfs
    fs.pipe_file(f"{root}/m.pkl", b"w")
    monkeypatch.delenv("NUSERVE_MODEL_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    url = f"memory://{root}/m.pkl"
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    expected = tmp_path / ".cache" / "nuserve" / "models" / digest / "m.pkl"
    assert get_model(url)[0] == str(expected)


def test_directory_entries_cannot_link_outside(tmp_path):
    outside = write(tmp_path / "secret.txt")
    directory = tmp_path / "model"
    write(directory / "m.pkl")
    (directory / "vocab.txt").symlink_to(outside)
    with pytest.raises(ConfigError) as info:
        get_model(str(directory), suffix=".pkl")
    assert info.value.message == (
        f"'vocab.txt' in model directory {directory} is a link to {outside}, outside the "
        "directory; copy the file in, or point model_path at its directory"
    )


def test_spec_fallback_entries_cannot_link_outside(tmp_path):
    directory = tmp_path / "model"
    write_spec(directory, {"parameters": {}})
    (directory / "m.pkl").symlink_to(write(tmp_path / "elsewhere.pkl"))
    with pytest.raises(ConfigError, match=r"'m\.pkl' in model directory .* outside the directory"):
        get_model(str(directory), suffix=".pkl")


def test_links_inside_the_directory_are_followed(tmp_path):
    directory = tmp_path / "model"
    real = write(directory / "blobs" / "abc")
    (directory / "m.pkl").symlink_to(real)
    assert get_model(str(directory), suffix=".pkl")[0] == str(directory / "m.pkl")


def test_a_linked_model_directory_is_its_own_root(tmp_path):
    real = tmp_path / "real"
    write(real / "m.pkl")
    write(real / "vocab.txt")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    model, extra, _ = get_model(str(tmp_path / "link"), suffix=".pkl")
    assert Path(model).name == "m.pkl" and set(extra) == {"vocab.txt"}


@pytest.mark.parametrize("suffix", ["../secret.pkl", "/secret.pkl", "/../secret.pkl"])
def test_a_suffix_is_a_name_ending_never_a_path(tmp_path, suffix):
    write(tmp_path / "secret.pkl")
    directory = tmp_path / "model"
    write(directory / "m.bin")
    with pytest.raises(ConfigError, match="no file ending in"):
        get_model(str(directory), suffix=suffix)


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "..", "a/../../b"])
def test_extra_data_keys_are_names_and_values_stay_inside(tmp_path, key):
    directory = tmp_path / "model"
    write(directory / "m.pkl")
    write(directory / "v.txt")
    write_spec(directory, {"model_file": "m.pkl", "extra_data": {key: "v.txt"}})
    _, extra, _ = get_model(str(directory), suffix=".pkl")
    assert extra == {key: str((directory / "v.txt").resolve())}
    write_spec(directory, {"model_file": "m.pkl", "extra_data": {key: "../model/../../x"}})
    with pytest.raises(ConfigError, match="escapes the model directory"):
        get_model(str(directory), suffix=".pkl")
