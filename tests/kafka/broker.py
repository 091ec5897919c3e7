"""A real single-node Apache Kafka broker (KRaft mode) for the test suite.

The broker's jars come from Maven Central through ``tests/kafka/pom.xml``::

    mvn -q -f tests/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=<cache>

and are cached in ``~/.cache/nuserve/kafka/<version>/libs`` (the part before
``<version>`` can be moved with the ``NUSERVE_KAFKA_CACHE`` environment variable).
A marker file written after a complete copy makes later runs skip Maven.

Usage from Python::

    with KafkaBroker() as broker:  # fetch_jars() + start(); stop() at the end
        producer = Producer({"bootstrap.servers": broker.bootstrap})

``kill()`` (SIGKILL, data kept) followed by ``restart()`` brings the broker back on the
same address and log directory, for broker-outage tests.

A failed ``start()`` raises ``KafkaBrokerError`` with the tail of the broker's log and
deletes the temp folder (set ``NUSERVE_KAFKA_KEEP_FAILED=1`` to keep it for inspection).

Manual use::

    python tests/kafka/broker.py fetch           # download the jars, print where they are
    python tests/kafka/broker.py start [--for S] # run a broker until Ctrl-C (or S seconds)

Needs ``java`` (17+) on PATH or in ``JAVA_HOME`` and, for the first fetch, ``mvn``.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

__all__ = [
    "KAFKA_39",
    "KAFKA_VERSION",
    "POM",
    "POMS",
    "KafkaBroker",
    "KafkaBrokerError",
    "cache_root",
    "fetch_jars",
    "libs_dir",
]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
POM_39 = HERE / "pom-3.9.xml"
NODE_ID = 1
_COMPLETE_MARKER = ".complete"
_LOG4J2_PROPERTIES = """\
status = warn
name = nuserve-test-broker
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
"""


class KafkaBrokerError(RuntimeError):
    """The broker (or fetching its jars) failed; the message carries the log's tail."""


def _pom_kafka_version(pom: Path = POM) -> str:
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom.read_text())
    if match is None:
        raise KafkaBrokerError(f"no <kafka.version> property in {pom}")
    return match.group(1)


#: The Kafka version the pom names (the single place to change it).
KAFKA_VERSION = _pom_kafka_version()
#: Kafka 3.9 (MLRun CE's; the last line whose OffsetCommit versions Nuclio 1.14's Sarama speaks).
KAFKA_39 = _pom_kafka_version(POM_39)
#: Each broker version the tests run against, and the pom that resolves its jars.
POMS: dict[str, Path] = {KAFKA_VERSION: POM, KAFKA_39: POM_39}


def _pom(version: str) -> Path:
    try:
        return POMS[version]
    except KeyError:
        raise KafkaBrokerError(f"no pom for Kafka {version}; known: {sorted(POMS)}") from None


def cache_root() -> Path:
    """``$NUSERVE_KAFKA_CACHE`` or ``~/.cache/nuserve/kafka``; versions live below it."""
    env = os.environ.get("NUSERVE_KAFKA_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "nuserve" / "kafka"


def libs_dir(version: str = KAFKA_VERSION) -> Path:
    return cache_root() / version / "libs"


def _pom_digest(version: str = KAFKA_VERSION) -> str:
    return hashlib.sha256(_pom(version).read_bytes()).hexdigest()


def _jars_complete(libs: Path, digest: str) -> bool:
    marker = libs / _COMPLETE_MARKER
    try:
        return marker.read_text().strip() == digest
    except OSError:
        return False


@contextlib.contextmanager
def _file_lock(path: Path, timeout: float) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, waited for at most ``timeout`` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise KafkaBrokerError(
                        f"timed out after {timeout:.0f}s waiting for {path}"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def jars_cached(version: str = KAFKA_VERSION) -> bool:
    """Whether the cache holds the broker's jars for the current pom (no fetch needed)."""
    return _jars_complete(libs_dir(version), _pom_digest(version))


def fetch_jars(timeout: float = 900.0, version: str = KAFKA_VERSION) -> Path:
    """Make sure the broker's jars are in the cache; return the ``libs`` folder.

    Runs Maven only when the cache lacks a complete copy for the current pom. The copy
    goes to a scratch folder that is renamed into place once complete, under a file lock,
    so concurrent test runs neither fetch twice nor see half a folder.
    """
    libs = libs_dir(version)
    digest = _pom_digest(version)
    if _jars_complete(libs, digest):
        return libs
    version_dir = libs.parent
    deadline = time.monotonic() + timeout
    with _file_lock(version_dir / ".lock", timeout):
        if _jars_complete(libs, digest):
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaBrokerError("`mvn` is not on PATH; it is needed once to fetch Kafka's jars")
        scratch = version_dir / f"libs.partial-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(_pom(version)),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={scratch}",
        ]
        try:
            result = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=max(1.0, deadline - time.monotonic()),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            raise KafkaBrokerError(f"mvn timed out after {timeout:.0f}s: {' '.join(cmd)}") from exc
        if result.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            tail = (result.stdout + result.stderr)[-4000:]
            raise KafkaBrokerError(
                f"mvn failed (exit {result.returncode}): {' '.join(cmd)}\n{tail}"
            )
        main_jar = scratch / f"kafka_2.13-{version}.jar"
        if not main_jar.is_file():
            shutil.rmtree(scratch, ignore_errors=True)
            raise KafkaBrokerError(f"mvn succeeded but {main_jar.name} is missing in {scratch}")
        (scratch / _COMPLETE_MARKER).write_text(digest + "\n")
        shutil.rmtree(libs, ignore_errors=True)
        scratch.rename(libs)
    return libs


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
    java = shutil.which("java")
    if java is None:
        raise KafkaBrokerError("`java` (17 or newer) is neither in $JAVA_HOME/bin nor on PATH")
    return java


def _free_ports(count: int) -> list[int]:
    """Distinct ports that were free on 127.0.0.1 a moment ago."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _random_cluster_id() -> str:
    """A Kafka cluster id: a random UUID in URL-safe base64 (22 chars), not led by '-'."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


# Brokers' JVMs still running, killed at interpreter exit should a test run end abruptly.
_LIVE: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_LIVE):
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        _LIVE.discard(proc)


class KafkaBroker:
    """One Kafka broker + KRaft controller in a single JVM, listening on 127.0.0.1.

    ``start()`` picks free ports, writes ``server.properties`` into a fresh temp folder,
    formats the storage and waits until an AdminClient sees the broker. ``stop()`` ends it
    and removes the folder; ``kill()`` SIGKILLs it keeping the data, and ``restart()``
    starts it again on the same ports and log directory.
    """

    def __init__(
        self,
        *,
        heap: str = "512m",
        start_timeout: float = 60.0,
        stop_timeout: float = 20.0,
        fetch_timeout: float = 900.0,
        extra_properties: Mapping[str, str] | None = None,
        version: str = KAFKA_VERSION,
    ) -> None:
        _pom(version)
        self.version = version
        self.heap = heap
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.fetch_timeout = fetch_timeout
        self.extra_properties: dict[str, str] = dict(extra_properties or {})
        self.port: int | None = None
        self.controller_port: int | None = None
        self.workdir: Path | None = None
        self.cluster_id: str | None = None
        self.libs: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:<port>"`` for ``bootstrap.servers``."""
        if self.port is None:
            raise KafkaBrokerError("the broker has not been started")
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def log_path(self) -> Path:
        if self.workdir is None:
            raise KafkaBrokerError("the broker has not been started")
        return self.workdir / "broker.log"

    @property
    def properties_path(self) -> Path:
        if self.workdir is None:
            raise KafkaBrokerError("the broker has not been started")
        return self.workdir / "server.properties"

    @property
    def data_dir(self) -> Path:
        if self.workdir is None:
            raise KafkaBrokerError("the broker has not been started")
        return self.workdir / "data"

    def log_tail(self, lines: int = 80) -> str:
        """The last ``lines`` lines of the broker's stdout/stderr ('' if none yet)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except (OSError, KafkaBrokerError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ lifecycle
    def fetch_jars(self) -> Path:
        self.libs = fetch_jars(timeout=self.fetch_timeout, version=self.version)
        return self.libs

    def start(self) -> KafkaBroker:
        """Start a new broker with fresh storage; returns once it serves metadata."""
        if self.running:
            raise KafkaBrokerError(f"the broker is already running on {self.bootstrap}")
        if self.workdir is not None:
            raise KafkaBrokerError("start() was already used; call restart() or stop() first")
        self.fetch_jars()
        attempts = 3  # fresh ports each time should another process grab ours meanwhile
        for attempt in range(1, attempts + 1):
            try:
                self._prepare()
                self._launch()
                return self
            except KafkaBrokerError as exc:
                port_clash = "Address already in use" in str(exc)
                self._terminate(force=True)
                keep = os.environ.get("NUSERVE_KAFKA_KEEP_FAILED", "") not in ("", "0")
                self._remove_workdir(keep=keep)
                if not port_clash or attempt == attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def restart(self) -> KafkaBroker:
        """Start again on the same ports and log directory (stopping it first if running)."""
        if self.workdir is None or self.port is None:
            raise KafkaBrokerError("restart() needs a broker that was started before")
        if self.running:
            self._terminate(force=False)
        self._launch()
        return self

    def ensure_running(self) -> KafkaBroker:
        """``restart()`` if a test left the broker down; no-op while it is running."""
        if not self.running:
            self.restart()
        return self

    def kill(self) -> None:
        """SIGKILL the broker (an abrupt outage); its data stays for ``restart()``."""
        self._terminate(force=True)

    def stop(self) -> None:
        """SIGTERM (then SIGKILL after ``stop_timeout``) and delete the temp folder."""
        self._terminate(force=False)
        self._remove_workdir()

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"127.0.0.1:{self.port}" if self.port is not None else "not started"
        state = "running" if self.running else "stopped"
        return f"KafkaBroker({self.version}, {where}, {state})"

    # ------------------------------------------------------------------ internals
    def _prepare(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="nuserve-kafka-"))
        self.port, self.controller_port = _free_ports(2)
        self.cluster_id = _random_cluster_id()
        self.data_dir.mkdir()
        (self.workdir / "log4j2.properties").write_text(_LOG4J2_PROPERTIES)
        self.properties_path.write_text(self._server_properties())
        self._format_storage()

    def _server_properties(self) -> str:
        assert self.workdir is not None
        props: dict[str, str] = {
            "process.roles": "broker,controller",
            "node.id": str(NODE_ID),
            # Kafka 4.x takes either a static voter set or a dynamic quorum
            # (controller.quorum.bootstrap.servers + format --standalone); static is simpler.
            "controller.quorum.voters": f"{NODE_ID}@127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # After kill(), the restarted controller refuses the broker's new registration
            # ("DUPLICATE_BROKER_REGISTRATION") until the old one's session expires: keep
            # that short (default 9 s) so restart() is quick.
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "500",
            # Small and quick: this machine has 2 cores.
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
            "background.threads": "2",
            "log.cleaner.threads": "1",
            "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        }
        props.update(self.extra_properties)
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def _jvm_args(self, heap: str) -> list[str]:
        assert self.workdir is not None and self.libs is not None
        return [
            _java(),
            f"-Xmx{heap}",
            "-Xms64m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # C1 only: faster start, plenty for tests
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.workdir / 'logs'}",
            "-cp",
            f"{self.libs}/*",
        ]

    def _format_storage(self) -> None:
        assert self.cluster_id is not None
        cmd = [
            *self._jvm_args("256m"),
            "kafka.tools.StorageTool",
            "format",
            f"--config={self.properties_path}",
            f"--cluster-id={self.cluster_id}",
        ]
        with self.log_path.open("ab") as out:
            out.write(f"$ {' '.join(cmd)}\n".encode())
            out.flush()
            try:
                result = subprocess.run(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    timeout=self.start_timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise KafkaBrokerError(
                    f"formatting Kafka storage timed out after {self.start_timeout:.0f}s\n"
                    f"{self.log_tail()}"
                ) from exc
        if result.returncode != 0:
            raise KafkaBrokerError(
                f"formatting Kafka storage failed (exit {result.returncode}); "
                f"log {self.log_path}:\n{self.log_tail()}"
            )

    def _launch(self) -> None:
        assert self.workdir is not None and self.port is not None
        if self.libs is None:
            self.fetch_jars()
        cmd = [*self._jvm_args(self.heap), "kafka.Kafka", str(self.properties_path)]
        with self.log_path.open("ab") as out:
            out.write(f"$ {' '.join(cmd)}\n".encode())
            out.flush()
            # The child keeps its own copy of the log's descriptor; ours closes here.
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,  # a Ctrl-C meant for pytest does not reach the JVM
            )
        _LIVE.add(self._proc)
        started = time.monotonic()
        self._wait_ready(started + self.start_timeout)
        log.info(
            "Kafka %s up on %s in %.1fs", self.version, self.bootstrap, time.monotonic() - started
        )

    def _wait_ready(self, deadline: float) -> None:
        """Wait until an AdminClient on 127.0.0.1 lists the cluster with this broker in it."""
        from confluent_kafka.admin import AdminClient

        assert self._proc is not None and self.port is not None
        admin: AdminClient | None = None
        last_error = "the broker's port never opened"
        try:
            while True:
                code = self._proc.poll()
                if code is not None:
                    raise KafkaBrokerError(
                        f"Kafka exited with code {code} while starting; "
                        f"log {self.log_path}:\n{self.log_tail()}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise KafkaBrokerError(
                        f"Kafka did not become ready within {self.start_timeout:.0f}s "
                        f"({last_error}); log {self.log_path}:\n{self.log_tail()}"
                    )
                if _port_open(self.port):
                    if admin is None:
                        admin = AdminClient(
                            {
                                "bootstrap.servers": self.bootstrap,
                                "socket.connection.setup.timeout.ms": 2000,
                                "log.connection.close": False,
                            }
                        )
                    try:
                        metadata = admin.list_topics(timeout=min(2.0, max(0.1, remaining)))
                    except Exception as exc:
                        last_error = f"list_topics: {exc}"
                    else:
                        if NODE_ID in metadata.brokers:
                            return
                        last_error = f"metadata lists brokers {sorted(metadata.brokers)}"
                time.sleep(0.2)
        finally:
            del admin

    def _terminate(self, *, force: bool) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                if force:
                    proc.kill()
                else:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=self.stop_timeout)
                    except subprocess.TimeoutExpired:
                        log.warning(
                            "Kafka ignored SIGTERM for %.0fs; killing it", self.stop_timeout
                        )
                        proc.kill()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired as exc:  # pragma: no cover - kernel trouble
                raise KafkaBrokerError(f"Kafka (pid {proc.pid}) did not die after SIGKILL") from exc
        finally:
            if proc.poll() is not None:
                _LIVE.discard(proc)
                self._proc = None

    def _remove_workdir(self, *, keep: bool = False) -> None:
        if self.workdir is None:
            return
        if keep:
            log.warning("keeping the failed broker's folder for inspection: %s", self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None
        self.port = None
        self.controller_port = None


def _main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download the broker's jars into the cache")
    start = sub.add_parser("start", help="run a broker until Ctrl-C")
    start.add_argument(
        "--for", dest="seconds", type=float, default=None, help="stop after S seconds"
    )
    parser.add_argument(
        "--kafka", default=KAFKA_VERSION, choices=sorted(POMS), help="the broker's version"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "fetch":
        began = time.monotonic()
        libs = fetch_jars(version=args.kafka)
        print(f"Kafka {args.kafka} jars in {libs} ({time.monotonic() - began:.1f}s)")
        return 0

    broker = KafkaBroker(version=args.kafka)
    broker.fetch_jars()
    began = time.monotonic()
    with broker:
        print(f"Kafka {broker.version} ready in {time.monotonic() - began:.1f}s")
        print(f"bootstrap.servers={broker.bootstrap}")
        print(f"log: {broker.log_path}")
        print("Ctrl-C stops it." if args.seconds is None else f"Stopping in {args.seconds:.0f}s.")
        end = None if args.seconds is None else time.monotonic() + args.seconds
        try:
            while broker.running and (end is None or time.monotonic() < end):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        if not broker.running:
            print(f"the broker exited by itself; log tail:\n{broker.log_tail()}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
