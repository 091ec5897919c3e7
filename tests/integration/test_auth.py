"""``nuserve serve`` with a bearer token, and where it binds, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from nuserve.serve.auth import MISSING, WRONG
from tests.serve_models import (
    HOST,
    ROOT,
    children,
    free_port,
    stop,
    wait_until,
    write_function_yaml,
)

pytestmark = pytest.mark.integration

TOKEN = "s3cr3t-token-0123456789abcdef"
DOCUMENTATION_ADDRESS = "2001:db8::1"
IRIS = b'{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
PATHS = [
    ("POST", "/v2/models/iris/infer"),
    ("GET", "/v2/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/v2/models"),
    ("GET", "/nowhere"),
]


def call(
    port: int, method: str, path: str, authorization: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        conn.request(method, path, body=IRIS if method == "POST" else None, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def serving(
    tmp_path: Path, options: list[str], env: dict[str, str] | None = None, workers: int = 1
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``nuserve serve`` with ``options``; ready once an authorised /v2/health/ready is 200."""
    spec = write_function_yaml(tmp_path / "function.yaml", {"iris": "tests.models.Echo"})
    port = free_port()
    command = [sys.executable, "-m", "nuserve.cli", "serve", str(spec), "--port", str(port)]
    command += ["--workers", str(workers), *options]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("NUSERVE_SPEC", None)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=full_env, cwd=tmp_path, stdout=out, stderr=out)

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return call(port, "GET", "/v2/health/ready", f"Bearer {TOKEN}")[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, 30, "the server answering /v2/health/ready")
        yield process, port
    finally:
        stop(process)


def token_file(tmp_path: Path, text: str = TOKEN + "\n", mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_every_path_needs_the_token_from_the_file(tmp_path: Path) -> None:
    options = ["--auth-token-file", str(token_file(tmp_path))]
    with serving(tmp_path, options) as (process, port):
        for method, path in PATHS:
            for authorization, reason in [
                (None, MISSING),
                ("Bearer wrong-token-0123456789abcdef", WRONG),
                (f"Bearer {TOKEN}x", WRONG),
                (f"Basic {TOKEN}", MISSING),
                ("Bearer", WRONG),
            ]:
                status, headers, body = call(port, method, path, authorization)
                assert status == 401, (method, path, authorization, body)
                assert headers["www-authenticate"] == 'Bearer realm="nuserve"'
                answer = orjson.loads(body)
                assert set(answer) == {"error", "id"} and answer["error"] == reason
                assert TOKEN not in body.decode()
            for authorization in (f"Bearer {TOKEN}", f"bearer {TOKEN}"):
                status, _, body = call(port, method, path, authorization)
                assert status == (404 if path == "/nowhere" else 200), (path, body)
        status, _, body = call(port, "POST", "/v2/models/iris/infer", f"Bearer {TOKEN}")
        assert orjson.loads(body)["outputs"] == [[5.1, 3.5, 1.4, 0.2]]
        text = call(port, "GET", "/metrics", f"Bearer {TOKEN}")[2].decode()
        assert 'nuserve_requests_total{model="",op="unauthorized"}' in text
        for pid in (process.pid, *children(process.pid)):  # never on a command line
            assert TOKEN not in Path(f"/proc/{pid}/cmdline").read_text()


def test_grpc_calls_need_the_token_too(tmp_path: Path) -> None:
    """The gRPC service (run in grpcio's threads) reads the token from the call's metadata."""
    import grpc
    import numpy as np
    import tritonclient.grpc as grpcclient
    from tritonclient.utils import InferenceServerException

    grpc_port = free_port()
    options = ["--auth-token-file", str(token_file(tmp_path)), "--grpc-port", str(grpc_port)]
    with serving(tmp_path, options):
        client = grpcclient.InferenceServerClient(f"{HOST}:{grpc_port}")
        x = grpcclient.InferInput("x", [2], "INT64")
        x.set_data_from_numpy(np.array([1, 2]))
        try:
            for headers, reason in [
                (None, MISSING),
                ({"authorization": "Bearer wrong-token"}, WRONG),
                ({"authorization": f"Basic {TOKEN}"}, MISSING),
            ]:
                with pytest.raises(InferenceServerException) as err:
                    client.infer("iris", [x], headers=headers)
                assert err.value.status() == str(grpc.StatusCode.UNAUTHENTICATED)
                assert err.value.message() == reason
                assert TOKEN not in str(err.value)
            with pytest.raises(InferenceServerException):
                client.is_server_live()  # health too, as over HTTP
            good = {"authorization": f"Bearer {TOKEN}"}
            assert client.is_server_live(headers=good)
            assert client.infer("iris", [x], headers=good).as_numpy("output-0").tolist() == [1, 2]
        finally:
            client.close()


def test_the_token_from_the_environment_reaches_every_worker(tmp_path: Path) -> None:
    with serving(tmp_path, [], env={"NUSERVE_AUTH_TOKEN": TOKEN}, workers=2) as (_, port):
        for _ in range(20):  # new connections, spread over both workers
            assert call(port, "POST", "/v2/models/iris/infer")[0] == 401
            assert call(port, "POST", "/v2/models/iris/infer", f"Bearer {TOKEN}")[0] == 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; write the token in it"),
        ("short\n", "has 5 characters; use 16 or more"),
        ("has spaces in the middle of it\n", "holds characters an Authorization header cannot"),
    ],
)
def test_a_bad_token_file_is_refused_without_showing_the_token(
    tmp_path: Path, text: str, message: str
) -> None:
    spec = write_function_yaml(tmp_path / "function.yaml", {"iris": "tests.models.Echo"})
    command = [sys.executable, "-m", "nuserve.cli", "serve", str(spec), "--port", "0"]
    command += ["--auth-token-file", str(token_file(tmp_path, text))]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode == 1
    assert message in done.stderr.decode()
    assert not text.strip() or text.strip() not in done.stderr.decode()


def test_a_token_file_others_can_read_is_warned_about(tmp_path: Path) -> None:
    path = token_file(tmp_path, mode=0o644)
    with serving(tmp_path, ["--auth-token-file", str(path)]):
        pass
    log = (tmp_path / "server.log").read_text()
    assert f"the auth token file {path} can be read by other users; chmod 600" in log


def own_address() -> str | None:
    """This machine's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP connect only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def listening(port: int) -> list[str]:
    """Local addresses listening on ``port``, from /proc/net/tcp and tcp6 (hex, as written)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hex_port = local.partition(":")
                if int(hex_port, 16) == port and state == "0A":  # LISTEN
                    found.append(address)
    return found


def test_the_default_bind_is_loopback_only(tmp_path: Path) -> None:
    with serving(tmp_path, [], env={"NUSERVE_AUTH_TOKEN": TOKEN}) as (_, port):
        assert listening(port) == ["0100007F"]  # 127.0.0.1, and nothing else
        address = own_address()
        if address is not None:  # connecting only: the port is closed on that address
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((address, port), timeout=5).close()


def test_binding_a_reachable_address_without_a_token_is_warned_about(tmp_path: Path) -> None:
    """2001:db8::1 (IPv6's documentation prefix) is on no interface: the bind fails after the
    warning, so nothing is exposed."""
    with pytest.raises(OSError), socket.socket(socket.AF_INET6) as sock:
        sock.bind((DOCUMENTATION_ADDRESS, 0))
    spec = write_function_yaml(tmp_path / "function.yaml", {"iris": "tests.models.Echo"})
    command = [sys.executable, "-m", "nuserve.cli", "serve", str(spec)]
    command += ["--host", DOCUMENTATION_ADDRESS]
    command += ["--port", str(free_port())]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NUSERVE_AUTH_TOKEN", None)
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode != 0
    stderr = done.stderr.decode()
    assert (
        f"warning: {DOCUMENTATION_ADDRESS} is reachable from other machines and no auth token is set"
        in stderr
    )
    assert "--auth-token-file FILE" in stderr
