"""ServingFunction: the builder users call (``new_function``, ``set_topology``, ``add_model``).

Besides the graph it holds what only deployment needs (triggers, resources, env, volumes);
``to_yaml()`` writes both into a Nuclio function.yaml (``nuserve.nuclio.function_config``) and
``deploy()`` hands that file to nuctl (``nuserve.nuclio.deploy``).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from nuserve.errors import ConfigError
from nuserve.nuclio import function_spec as parts
from nuserve.nuclio import triggers
from nuserve.nuclio.function_spec import FunctionSpec
from nuserve.spec.routers import ClassRef, RouterSpec, RouteSpec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nuserve.graph import FlowBuilder
    from nuserve.nuclio.bundle import Bundle
    from nuserve.nuclio.deploy import DeployResult
    from nuserve.server.mock import MockServer


class ServingFunction:
    """A serving function: a graph of models plus how to deploy it.

    The builder methods return the function, so calls chain:
    ``fn.with_http(workers=4).gpu(1).set_env("LOG_LEVEL", "info")``.
    """

    def __init__(
        self,
        name: str,
        kind: str = "serving",
        image: str | None = None,
        filename: str | None = None,
    ) -> None:
        if kind != "serving":
            raise ConfigError(f"kind {kind!r} is not supported; nuserve builds kind='serving'")
        self.kind = kind
        self.spec = FunctionSpec(name=name, image=image, filename=filename)
        self.metadata_name = name
        self.children: dict[str, ServingFunction] = {}
        """Functions running the flow steps after a queue (``add_child_function``)."""
        self.code_dirs: list[Path] = []
        """Where else its code file and model paths are looked for (the folder of the
        function.yaml it was imported from, ``import_function``)."""
        self.default_class: str | None = None
        """The model class ``add_model`` uses when given none (a hub item's)."""
        self.project = ""
        """MLRun's project (``new_function(project=)``), reported as ``context.project``."""
        self.verbose = False

    @property
    def name(self) -> str:
        return self.spec.name

    @overload
    def set_topology(
        self, topology: Literal["router"] = "router", class_name: Any = None, **class_args: Any
    ) -> RouterSpec: ...

    @overload
    def set_topology(
        self, topology: Literal["flow"], *, engine: str | None = None, exist_ok: bool = False
    ) -> FlowBuilder: ...

    def set_topology(
        self,
        topology: str = "router",
        class_name: Any = None,
        engine: str | None = None,
        exist_ok: bool = False,
        **class_args: Any,
    ) -> RouterSpec | FlowBuilder:
        """Set the graph root: ``router`` returns the router spec; ``flow`` returns the flow
        builder (``nuserve.graph.FlowBuilder``), on the ``async`` engine unless
        ``engine="sync"`` (MLRun's default). ``class_name`` may be a router object: its
        class and the arguments it was made with become the router's (editable in
        ``fn.spec.graph.class_args``). ``exist_ok`` is MLRun's; a topology is replaced."""
        if topology == "flow" and class_name is None and not class_args:
            from nuserve.graph import FlowBuilder  # noqa: PLC0415 - only flows need it

            builder = FlowBuilder(engine=engine or "async")
            self.spec.graph = builder.spec
            return builder
        if topology != "router" or engine is not None:
            raise ConfigError(
                f"set_topology({topology!r}, engine={engine!r}) is not supported: use 'router' "
                "(with class_name and class args), or 'flow' with engine='sync' or 'async' only"
            )
        init_args = getattr(class_name, "init_args", None)
        if isinstance(init_args, dict) and not isinstance(class_name, str | type):
            class_args = {**init_args, **class_args}
            class_name = type(class_name)
        self.spec.graph = RouterSpec(class_name=class_name, class_args=class_args)
        return self.spec.graph

    def add_model(
        self,
        key: str,
        model_path: str | None = None,
        class_name: ClassRef = None,
        model_url: str | None = None,
        router_step: str | None = None,
        **class_args: Any,
    ) -> RouteSpec:
        """Add a model (``"name"`` or ``"name:version"``) to the router; in a flow, to its
        router step (``router_step`` names it when the flow has several)."""
        graph = self.spec.graph if self.spec.graph is not None else self.set_topology("router")
        if class_name is None and model_url is None:
            class_name = self.default_class
        if class_name is None and model_url is None:
            raise ConfigError(f"model {key!r} needs class_name= (or model_url= for a remote model)")
        if isinstance(graph, RouterSpec) and router_step is not None:
            raise ConfigError(f"router_step={router_step!r} is for flows; this graph is a router")
        router = graph if isinstance(graph, RouterSpec) else graph.router(router_step)
        if model_path is not None:
            model_path = str(model_path)
        return router.add_route(key, class_name, model_path, model_url, **class_args)

    def add_child_function(
        self, name: str, image: str | None = None, requirements: list[str] | None = None
    ) -> ServingFunction:
        """A function running the flow steps marked ``function=name`` (after a queue, whose
        stream it consumes). Returns it, to configure (resources, env, ...)."""
        child = ServingFunction(name, image=image or self.spec.image, filename=self.spec.filename)
        child.spec.requirements = list(requirements or self.spec.requirements)
        self.children[name] = child
        return child

    def functions(self) -> dict[str, ServingFunction]:
        """This function and its children, each serving its part of the flow."""
        from nuserve.function.flow_functions import split_function  # noqa: PLC0415

        return split_function(self)

    def to_mock_server(
        self,
        namespace: dict[str, Any] | None = None,
        current_function: str = "*",
        track_models: bool = False,
        workdir: str | None = None,
        **kwargs: Any,
    ) -> MockServer:
        """An in-process server for tests: ``server.test("/v2/models/m/infer", body)``.

        ``current_function="*"`` (MLRun's default) runs the steps of every function of the
        flow in one process (a queue without a stream passes events on); a function's name
        runs only that function's steps, from its first. ``track_models`` and ``workdir``
        are MLRun's and change nothing here.
        """
        from nuserve.server.mock import MockServer  # noqa: PLC0415 - keeps the builder light

        kwargs.setdefault("current_function", current_function)
        kwargs.setdefault("project", self.project)
        kwargs.setdefault("default_content_type", getattr(self.spec, "default_content_type", None))

        namespaces: list[tuple[str, Any]] = []
        if namespace is not None:
            namespaces.append(("the namespace argument", namespace))
        caller = sys._getframe(1).f_globals
        namespaces.append((f"the caller's globals ({caller.get('__name__')})", caller))
        code_dirs = [Path.cwd(), *self.code_dirs]
        return MockServer(self.spec.serving_spec(), namespaces, code_dirs, **kwargs)

    # ----------------------------------------------------------------------- deployment

    def plot(self, filename: str | Path | None = None, **kw: Any) -> Any:
        """Draw the flow (MLRun's ``fn.plot()``): into ``filename``, or the SVG text."""
        from nuserve.graph import FlowBuilder, FlowSpec  # noqa: PLC0415 - only flows draw

        if not isinstance(self.spec.graph, FlowSpec):
            raise ConfigError("plot() draws flows; this function's graph is a router")
        return FlowBuilder(self.spec.graph).plot(filename, **kw)

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The Nuclio function.yaml text, also written to ``path`` when given.

        Keys come in a fixed order, so regenerating from the same function gives the same
        bytes (diff-friendly, and ``function_from_yaml(p).to_yaml()`` equals the file). A flow
        with child functions also writes ``<stem>.<child><suffix>`` beside ``path`` for each.
        """
        from nuserve.nuclio.function_config import dump_yaml, function_config  # noqa: PLC0415
        from nuserve.nuclio.kafka_compat import warn_replays  # noqa: PLC0415

        configs = {name: function_config(fn) for name, fn in self.functions().items()}
        for config in configs.values():
            warn_replays(config)
        texts = {name: dump_yaml(config) for name, config in configs.items()}
        if path is not None:
            target = Path(path)
            for name, text in texts.items():
                child = target.with_name(f"{target.stem}.{name}{target.suffix}")
                (target if name == self.name else child).write_text(text, encoding="utf-8")
        return texts[self.name]

    def export(self, target: str | Path = "function.yaml") -> Path:
        """Write the function.yaml (``to_yaml``) to ``target`` (a ``.yaml`` file, or a folder
        to hold function.yaml), as MLRun's ``export``; ``import_function(target)`` reads it back.

        A relative code file the folder lacks is copied into it (from the working directory,
        or the folder an imported function came from), so the folder serves on its own, as
        MLRun's exported file, which embeds the code, does.
        """
        path = Path(target)
        if path.is_dir() or path.suffix not in (".yaml", ".yml"):
            path = path / "function.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_yaml(path)
        code = self.spec.filename
        if code and not Path(code).is_absolute() and not (path.parent / code).is_file():
            for directory in [Path.cwd(), *self.code_dirs]:
                if (directory / code).is_file():
                    (path.parent / code).parent.mkdir(parents=True, exist_ok=True)
                    (path.parent / code).write_bytes((directory / code).read_bytes())
                    break
        return path

    def build(
        self,
        directory: str | Path,
        with_deps: bool = False,
        include: Sequence[str | Path] = (),
        project_dir: str | Path = ".",
        arch: str = "x86_64",
        wheel_cache: str | Path | None = None,
        archive: bool = False,
    ) -> Bundle:
        """Write a deploy directory: function.yaml, handler.py, the code file, local models
        and a nuserve wheel packed from this installation, so that
        ``nuctl deploy <name> --path DIR --file DIR/function.yaml`` builds without nuserve on
        any index. ``with_deps=True`` adds every dependency's wheel (for the image's Python on
        Linux ``arch``) and installs with ``--no-index``: no index at all. ``include`` copies
        more files or directories (modules the classes import) to the directory's root.
        Relative paths are looked up in the current directory, then in ``project_dir``;
        ``wheel_cache`` keeps the dependency wheels between builds; ``archive`` also writes
        ``DIR.tar.gz`` (``nuctl deploy --path`` takes either).
        """
        from nuserve.nuclio.bundle import build_bundle  # noqa: PLC0415 - packing only here

        return build_bundle(
            self.functions(), directory, [Path(project_dir)], with_deps, include, arch,
            wheel_cache=wheel_cache, archive=archive,
        )  # fmt: skip

    def set_tracking(
        self,
        stream_path: str | None = None,
        batch: int | None = None,
        sample: int | None = None,
        sampling_percentage: float | None = None,
        tracking_policy: dict[str, Any] | None = None,
        **options: Any,
    ) -> ServingFunction:
        """Record each (sampled) request to a stream, as MLRun's ``set_tracking``.

        ``stream_path``: ``kafka://host:9092?topic=t``, ``v3io:///container/path``,
        ``file:///path.jsonl`` or ``memory://name``; ``options``: the other
        ``TrackingSettings`` fields (``queue_size``, ``flush_interval_ms``, ...).
        """
        from nuserve.tracking import tracking_settings  # noqa: PLC0415 - only when tracking

        self.spec.tracking = tracking_settings(
            stream_path, batch, sample, sampling_percentage, tracking_policy, **options
        )
        return self

    def add_trigger(self, name: str, spec: dict[str, Any]) -> ServingFunction:
        """Add (or replace) a trigger written in Nuclio's form; it must set ``numWorkers``."""
        triggers.check_trigger(name, spec)
        self.spec.triggers[name] = copy.deepcopy(spec)
        return self

    def add_kafka_trigger(
        self,
        name: str = "kafka",
        *,
        brokers: str | list[str],
        topics: str | list[str],
        consumer_group: str = "nuserve",
        initial_offset: str = "earliest",
        workers: int = 1,
        worker_allocation_mode: str = "pool",
        sasl: dict[str, Any] | None = None,
        explicit_ack: bool = False,
        extra_attributes: dict[str, Any] | None = None,
        kafka_version: str | None = None,
    ) -> ServingFunction:
        """Consume Kafka topics. ``explicit_ack=True`` sets static worker allocation (and the
        function annotation Nuclio reads it from), which explicit ack requires.

        ``sasl`` is ``{"user", "password", "mechanism"}`` (PLAIN, SCRAM-SHA-256/512).
        ``kafka_version`` names the broker's version (``"3.9.0"``): ``to_yaml`` and
        ``deploy`` warn when Nuclio would never commit offsets on it (Kafka 4.x with
        Nuclio <= 1.14).
        """
        trigger = triggers.kafka_trigger(
            name, brokers, topics, consumer_group, initial_offset, workers,
            worker_allocation_mode, sasl, explicit_ack, extra_attributes, kafka_version,
        )  # fmt: skip
        return self.add_trigger(name, trigger)

    def add_v3io_stream_trigger(
        self,
        name: str,
        stream_path: str,
        *,
        consumer_group: str = "nuserve",
        seek_to: str = "latest",
        workers: int = 1,
        container: str | None = None,
        webapi: str = triggers.DEFAULT_WEBAPI,
        access_key: str | None = None,
        explicit_ack: bool = False,
        extra_attributes: dict[str, Any] | None = None,
    ) -> ServingFunction:
        """Consume a v3io stream (``v3io:///<container>/<path>``, or container= and a path).

        Nuclio triggers cannot reference a Kubernetes secret: ``access_key`` goes into the
        trigger's ``password``, which Nuclio's sensitive-field masking stores as a secret.
        """
        trigger = triggers.v3io_stream_trigger(
            name, stream_path, consumer_group, seek_to, workers, container, webapi,
            access_key, explicit_ack, extra_attributes,
        )  # fmt: skip
        return self.add_trigger(name, trigger)

    def with_http(
        self,
        workers: int | None = None,
        max_body_size: int | None = None,
        batch_size: int | None = None,
        batch_timeout: str | float | None = None,
        request_timeout: str | float | None = None,
    ) -> ServingFunction:
        """Configure the HTTP trigger. ``max_body_size`` is nuserve's limit (a JSON 413
        beyond); Nuclio's ``maxRequestBodySize`` is set above it, so nuserve answers first;
        ``batch_size >= 1`` turns on trigger batch mode, ``0`` turns it off.

        ``request_timeout`` (``"30s"`` or seconds; ``0`` removes it) answers 504 to an event
        that takes longer, stream events too, and sets Nuclio's ``eventTimeout`` a little
        longer. It runs sync hooks in a thread per model (a few tens of µs per request);
        without it nothing is timed.
        """
        spec = self.spec
        if request_timeout is not None:
            spec.request_timeout = (
                None if request_timeout == 0 else parts.seconds(request_timeout, "request_timeout")
            )
        if workers is not None:
            spec.http_workers = parts.positive_int(workers, "http workers")
        if max_body_size is not None:
            spec.max_body_size = parts.positive_int(max_body_size, "max_body_size")
            spec.http_attributes.pop("maxRequestBodySize", None)
        if batch_size is not None:
            spec.http_batch_size = parts.positive_int(batch_size, "batch_size", 0)
            if not spec.http_batch_size:
                spec.http_batch_timeout = None
        if batch_timeout is not None:
            if not spec.http_batch_size:
                raise ConfigError("batch_timeout needs batch mode: pass batch_size >= 1 as well")
            spec.http_batch_timeout = parts.duration(batch_timeout, "batch_timeout")
        return self

    def set_streaming(self, streaming: bool = True) -> ServingFunction:
        """Stream the chunks of a generator ``predict`` to the client as they come (MLRun's
        ``set_streaming``): chunked HTTP from ``nuserve serve``, Nuclio's generator responses
        (the function.yaml's HTTP trigger flushes every ``streamingFlushPeriod``), an iterator
        from the mock server. Off, the chunks are joined into one answer."""
        self.spec.streaming = bool(streaming)
        return self

    def with_limits(
        self,
        mem: str | int | None = None,
        cpu: str | int | float | None = None,
        gpus: int | None = None,
        gpu_type: str = parts.GPU,
    ) -> ServingFunction:
        """Resource limits: ``mem="4Gi"``, ``cpu="2"`` (or 0.5), ``gpus=1`` (0 removes)."""
        parts.set_resources(self.spec.resources, "limits", mem, cpu, gpus, gpu_type)
        return self

    def with_requests(
        self, mem: str | int | None = None, cpu: str | int | float | None = None
    ) -> ServingFunction:
        """Resource requests (what the scheduler reserves): ``mem="1Gi"``, ``cpu="500m"``."""
        parts.set_resources(self.spec.resources, "requests", mem, cpu)
        return self

    def gpu(self, n: int = 1, gpu_type: str = parts.GPU) -> ServingFunction:
        """Ask for ``n`` GPUs (a limit; Kubernetes requests the same count)."""
        return self.with_limits(gpus=n, gpu_type=gpu_type)

    def set_env(self, name: str, value: str | int | float | bool) -> ServingFunction:
        """Set an environment variable (numbers become text, booleans ``true``/``false``)."""
        self.spec.env[parts.env_name(name)] = parts.env_value(value, name)
        return self

    def set_env_from_secret(self, name: str, secret: str, key: str) -> ServingFunction:
        """Read an environment variable from key ``key`` of Kubernetes secret ``secret``."""
        ref = {"name": parts.text(secret, "secret"), "key": parts.text(key, "secret key")}
        self.spec.env[parts.env_name(name)] = {"secretKeyRef": ref}
        return self

    def add_volume(
        self,
        name: str,
        mount_path: str,
        host_path: str | None = None,
        pvc: str | None = None,
        config_map: str | None = None,
        secret: str | None = None,
        read_only: bool = False,
    ) -> ServingFunction:
        """Mount a volume (exactly one of host_path, pvc, config_map, secret); a volume of the
        same name is replaced."""
        entry = parts.volume(name, mount_path, host_path, pvc, config_map, secret, read_only)
        volumes = [v for v in self.spec.volumes if v["volume"]["name"] != name]
        for other in volumes:
            if other["volumeMount"]["mountPath"] == mount_path:
                raise ConfigError(
                    f"volume {name!r}: mount_path {mount_path!r} is already used by volume "
                    f"{other['volume']['name']!r}; choose another path"
                )
        self.spec.volumes = [*volumes, entry]
        return self

    def deploy(
        self,
        dry_run: bool = False,
        platform: str | None = None,
        project_dir: str | Path = ".",
        nuctl: str = "nuctl",
        registry: str | None = None,
        namespace: str | None = None,
        build_dir: str | Path | None = None,
        with_deps: bool = False,
        include: Sequence[str | Path] = (),
        wheel_cache: str | Path | None = None,
        nuclio_version: str | None = None,
    ) -> DeployResult:
        """Deploy with ``nuctl deploy`` (see ``nuserve.nuclio.deploy.deploy_function``);
        ``build_dir`` deploys the directory ``build()`` writes there (no index needs nuserve)."""
        from nuserve.nuclio.deploy import deploy_function  # noqa: PLC0415 - subprocess only here

        return deploy_function(
            self, dry_run, platform, project_dir, nuctl, registry, namespace,
            build_dir=build_dir, with_deps=with_deps, include=include, wheel_cache=wheel_cache,
            nuclio_version=nuclio_version,
        )  # fmt: skip


def new_function(
    name: str,
    kind: str = "serving",
    image: str | None = None,
    requirements: list[str] | None = None,
    **kwargs: Any,
) -> ServingFunction:
    """A new serving function (MLRun's ``new_function``)."""
    fn = ServingFunction(name, kind, image)
    fn.spec.requirements = list(requirements or [])
    fn.project = str(kwargs.get("project") or "")
    return fn


def code_to_function(
    name: str,
    filename: str | None = None,
    kind: str = "serving",
    image: str | None = None,
    requirements: list[str] | None = None,
    **kwargs: Any,
) -> ServingFunction:
    """A serving function whose classes live in ``filename`` (a ``.py`` file or a notebook,
    ``nuserve.notebook``); inside a running notebook, without a filename, that notebook."""
    from nuserve.function.notebook import code_file  # noqa: PLC0415

    filename = code_file(filename, name, sys._getframe(1).f_globals)
    fn = ServingFunction(name, kind, image, filename=filename)
    fn.spec.requirements = list(requirements or [])
    return fn


def function_from_yaml(path: str | Path) -> ServingFunction:
    """Read a function.yaml written by ``to_yaml()``; its ``to_yaml()`` gives the same text."""
    from nuserve.nuclio.function_config import read_function_yaml  # noqa: PLC0415

    return _function(*read_function_yaml(path))


def function_from_config(doc: Any, source: str = "function.yaml") -> ServingFunction:
    """The ServingFunction a function config (a function.yaml's document) describes."""
    from nuserve.nuclio.function_config import read_function_config  # noqa: PLC0415

    return _function(*read_function_config(doc, source))


def _function(name: str, spec: FunctionSpec) -> ServingFunction:
    fn = ServingFunction(spec.name)
    fn.spec = spec
    fn.metadata_name = name
    return fn
