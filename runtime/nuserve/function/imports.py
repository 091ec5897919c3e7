"""``import_function``: a function from a hub (``hub://name[:tag]``) or a function.yaml.

As MLRun's ``import_function``: ``hub://sklearn-classifier`` builds the function nuserve's hub
(or the user's, ``NUSERVE_HUB_URL`` / ``hub_url=``) describes; a path reads the function.yaml
``fn.export()`` wrote. Either way the yaml's folder becomes a code directory of the function,
so its code file and relative model paths are found wherever the caller runs.
"""

from __future__ import annotations

from pathlib import Path

from nuserve import hub
from nuserve.errors import ConfigError
from nuserve.function.serving_function import ServingFunction, function_from_yaml

FUNCTION_YAML = "function.yaml"


def import_function(
    url: str | Path, hub_url: str | Path | None = None, new_name: str | None = None
) -> ServingFunction:
    """The function at ``url``: ``hub://<name>[:<tag>]``, a function.yaml, or its folder."""
    text = str(url)
    if text.startswith("hub://"):
        name, tag = hub.parse_hub_url(text)
        path = hub.fetch(name, tag, hub_url) / FUNCTION_YAML
    else:
        path = Path(text)
        if path.is_dir():
            path = path / FUNCTION_YAML
        if not path.is_file():
            raise ConfigError(f"function file {str(path)!r} not found (cwd is {Path.cwd()})")
    fn = function_from_yaml(path)
    fn.code_dirs.append(path.parent.resolve())
    if new_name is not None:
        fn.spec.name = fn.metadata_name = new_name
    return fn
