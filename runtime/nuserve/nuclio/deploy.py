"""Deploying with nuctl: ``nuctl deploy <name> --path <code dir> --file <function.yaml>``.

nuserve does not talk to Nuclio's API itself; nuctl builds the image (running the build
commands that pip install nuserve and the requirements) and deploys it. The function.yaml
is written to ``<project_dir>/.nuserve/<name>.yaml``, so a failed deploy can be inspected
and re-run by hand, and a dry run shows the exact command without running anything.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol as Interface

from nuserve.errors import ConfigError
from nuserve.nuclio import function_config
from nuserve.nuclio.function_spec import FunctionSpec
from nuserve.nuclio.kafka_compat import parse_version, warn_replays
from nuserve.nuclio.trigger_defaults import handler_name


class Deployable(Interface):
    """What ``deploy_function`` deploys (``ServingFunction`` is one)."""

    spec: FunctionSpec
    metadata_name: str

    def to_yaml(self) -> str: ...

    def functions(self) -> Mapping[str, function_config.Deployable]: ...


NUCTL_DOCS = "https://docs.nuclio.io/en/stable/reference/nuctl/nuctl.html"
NUCTL_RELEASES = "https://github.com/nuclio/nuclio/releases"
PLATFORMS = ("auto", "local", "kube")
TAIL_LINES = 40
YAML_DIR = ".nuserve"


@dataclass
class DeployResult:
    """What ``deploy()`` ran (or, in a dry run, would run) and how it ended."""

    command: list[str]
    """The nuctl command line."""
    yaml: str
    """The function.yaml text given to nuctl."""
    yaml_path: str
    """Where that text is (or, in a dry run, would be) written."""
    dry_run: bool = False
    returncode: int | None = None
    """nuctl's exit status; ``None`` in a dry run."""
    output_tail: list[str] = field(default_factory=list)
    """The last lines nuctl printed (stdout and stderr together)."""
    warnings: list[str] = field(default_factory=list)
    """Known trouble ahead (a kafka trigger on a Nuclio/Kafka pair that never commits)."""


class DeployError(ConfigError):
    """nuctl ran and failed; ``result`` holds its exit status and the tail of its output."""

    def __init__(self, message: str, result: DeployResult) -> None:
        super().__init__(message)
        self.result = result


def nuctl_command(
    nuctl: str,
    name: str,
    code_dir: Path,
    yaml_path: Path,
    platform: str | None = None,
    registry: str | None = None,
    namespace: str | None = None,
) -> list[str]:
    """The ``nuctl deploy`` command line for a function.yaml and its code directory."""
    command = [nuctl, "deploy", name, "--path", str(code_dir), "--file", str(yaml_path)]
    if platform is not None:
        if platform not in PLATFORMS:
            raise ConfigError(
                f"platform must be one of {', '.join(map(repr, PLATFORMS))} (got {platform!r})"
            )
        command += ["--platform", platform]
    if registry:
        command += ["--registry", registry]
    if namespace:
        command += ["--namespace", namespace]
    return command


def find_nuctl(nuctl: str = "nuctl") -> str:
    """The nuctl executable's path; a clear error when it is not installed."""
    found = shutil.which(nuctl)
    if found is None:
        raise ConfigError(
            f"nuctl is not on PATH (looked for {nuctl!r}): download the nuctl binary for your "
            f"platform from {NUCTL_RELEASES}, make it executable and put it on PATH, or pass "
            f"nuctl='/path/to/nuctl' (`nuserve deploy --nuctl /path/to/nuctl`). "
            f"Install docs: {NUCTL_DOCS}"
        )
    return found


def nuctl_version(nuctl: str, timeout: float = 15.0) -> str | None:
    """The Nuclio version ``nuctl version`` reports (``None`` when it cannot be told)."""
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list
            [nuctl, "version"], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = parse_version(done.stdout + done.stderr)
    return ".".join(map(str, found)) if found is not None and done.returncode == 0 else None


def _warnings(text: str, nuclio_version: str | None) -> list[str]:
    import yaml  # noqa: PLC0415 - keeps `import nuserve` light

    doc = yaml.safe_load(text)
    return warn_replays(doc, nuclio_version) if isinstance(doc, dict) else []


def deploy_function(
    fn: Deployable,
    dry_run: bool = False,
    platform: str | None = None,
    project_dir: str | Path = ".",
    nuctl: str = "nuctl",
    registry: str | None = None,
    namespace: str | None = None,
    timeout: float | None = None,
    build_dir: str | Path | None = None,
    with_deps: bool = False,
    include: Sequence[str | Path] = (),
    wheel_cache: str | Path | None = None,
    nuclio_version: str | None = None,
) -> DeployResult:
    """Write ``fn``'s function.yaml and run ``nuctl deploy`` on it with ``project_dir`` as code.

    ``project_dir`` is copied into the image (Nuclio's ``/opt/nuclio``); with the default
    handler it must hold ``handler.py``, and the build installs nuserve by name, so the
    image's package index must have it. With ``build_dir``, the deploy directory
    (``nuserve.nuclio.bundle``: code, models, a nuserve wheel, with ``with_deps`` every
    dependency's wheel) is written there from ``project_dir``'s files and deployed instead:
    that build needs no nuserve on any index. A nuctl failure raises ``DeployError`` with its
    output's tail; ``dry_run=True`` only returns the command and the YAML.
    ``nuclio_version`` (else what ``nuctl version`` says; else 1.14.1) is what the
    warnings judge the kafka triggers against (``DeployResult.warnings``).
    """
    if build_dir is not None:
        return _deploy_bundle(
            fn, Path(build_dir), Path(project_dir), (with_deps, include, wheel_cache), dry_run,
            (platform, registry, namespace), nuctl, timeout, nuclio_version,
        )  # fmt: skip
    code_dir = _code_dir(project_dir, handler_name(fn.spec))
    text = fn.to_yaml()
    yaml_path = code_dir / YAML_DIR / f"{fn.metadata_name}.yaml"
    args = (fn.metadata_name, code_dir, yaml_path, platform, registry, namespace)
    if dry_run:
        notes = _warnings(text, nuclio_version)
        return DeployResult(
            nuctl_command(nuctl, *args), text, str(yaml_path), dry_run=True, warnings=notes
        )
    found = find_nuctl(nuctl)
    notes = _warnings(text, nuclio_version or nuctl_version(found))
    command = nuctl_command(found, *args)
    yaml_path.parent.mkdir(exist_ok=True)
    yaml_path.write_text(text, encoding="utf-8")
    result = run_nuctl(command, text, yaml_path, timeout)
    result.warnings = notes
    return result


def _deploy_bundle(
    fn: Deployable,
    build_dir: Path,
    project_dir: Path,
    contents: tuple[bool, Sequence[str | Path], str | Path | None],
    dry_run: bool,
    options: tuple[str | None, str | None, str | None],
    nuctl: str,
    timeout: float | None,
    nuclio_version: str | None,
) -> DeployResult:
    from nuserve.nuclio.bundle import build_bundle  # noqa: PLC0415 - packing only here

    if not project_dir.is_dir():
        raise ConfigError(f"project_dir {str(project_dir)!r} is not a directory")
    args = (fn.metadata_name, build_dir, build_dir / "function.yaml", *options)
    with_deps, include, cache = contents
    if dry_run:
        planned = build_bundle(
            fn.functions(), build_dir, [project_dir], with_deps, include, write=False
        )
        notes = _warnings(planned.yaml, nuclio_version)
        return DeployResult(
            nuctl_command(nuctl, *args), planned.yaml, planned.yaml_path, True, warnings=notes
        )
    found = find_nuctl(nuctl)
    command = nuctl_command(found, *args)
    bundle = build_bundle(
        fn.functions(), build_dir, [project_dir], with_deps, include, wheel_cache=cache
    )
    notes = _warnings(bundle.yaml, nuclio_version or nuctl_version(found))
    result = run_nuctl(command, bundle.yaml, Path(bundle.yaml_path), timeout)
    result.warnings = notes
    return result


def deploy_file(
    path: str | Path,
    dry_run: bool = False,
    platform: str | None = None,
    project_dir: str | Path = ".",
    nuctl: str = "nuctl",
    registry: str | None = None,
    namespace: str | None = None,
    timeout: float | None = None,
    nuclio_version: str | None = None,
) -> DeployResult:
    """Run ``nuctl deploy`` on an existing function.yaml as it is (nothing regenerated)."""
    import yaml  # noqa: PLC0415 - keeps `import nuserve` light

    yaml_path = Path(path)
    if not yaml_path.is_file():
        raise ConfigError(f"function.yaml {str(yaml_path)!r} not found")
    text = yaml_path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    name = doc.get("metadata", {}).get("name") if isinstance(doc, dict) else None
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{yaml_path} has no metadata.name; nuctl needs the function's name")
    handler = (doc.get("spec") or {}).get("handler") or "handler:handler"
    code_dir = _code_dir(project_dir, str(handler))
    args = (name, code_dir, yaml_path, platform, registry, namespace)
    if dry_run:
        notes = _warnings(text, nuclio_version)
        return DeployResult(
            nuctl_command(nuctl, *args), text, str(yaml_path), dry_run=True, warnings=notes
        )
    found = find_nuctl(nuctl)
    notes = _warnings(text, nuclio_version or nuctl_version(found))
    result = run_nuctl(nuctl_command(found, *args), text, yaml_path, timeout)
    result.warnings = notes
    return result


def run_nuctl(
    command: list[str], text: str, yaml_path: Path, timeout: float | None = None
) -> DeployResult:
    """Run a nuctl command; raise ``DeployError`` (with the output's tail) when it fails."""
    try:
        done = subprocess.run(  # noqa: S603 - the command is built above, never from a shell
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.output if isinstance(exc.output, str) else ""
        result = DeployResult(command, text, str(yaml_path), output_tail=_tail(output))
        message = f"nuctl did not finish within {timeout}s: {' '.join(command)}"
        raise DeployError(message, result) from None
    except OSError as exc:
        raise ConfigError(f"cannot run {command[0]!r}: {exc}") from None
    result = DeployResult(
        command, text, str(yaml_path), returncode=done.returncode, output_tail=_tail(done.stdout)
    )
    if done.returncode != 0:
        tail = "\n".join(result.output_tail)
        raise DeployError(
            f"nuctl deploy failed (exit status {done.returncode}); the function.yaml is at "
            f"{yaml_path}. Last lines of its output:\n{tail}",
            result,
        )
    return result


def _code_dir(project_dir: str | Path, handler: str) -> Path:
    """The code directory; Nuclio imports the handler's module from it, so check it is there."""
    code_dir = Path(project_dir)
    if not code_dir.is_dir():
        raise ConfigError(f"project_dir {str(code_dir)!r} is not a directory")
    module = handler.partition(":")[0]
    if "." in module or (code_dir / f"{module}.py").is_file():
        return code_dir
    raise ConfigError(
        f"{code_dir / (module + '.py')} not found: Nuclio loads handler {handler!r} from the code "
        "directory. Create it with "
        "`from nuserve.nuclio import handler, handler_async, init_context`, or set "
        "fn.spec.handler = 'nuserve.nuclio:handler'"
    )


def _tail(output: str | None) -> list[str]:
    return (output or "").splitlines()[-TAIL_LINES:]
