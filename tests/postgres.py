"""A throwaway PostgreSQL cluster for tests: ``initdb`` into a temp dir, ``pg_ctl start`` on
127.0.0.1 and a free port, trust authentication, stopped and deleted at the end.

The fixtures are registered once for the whole suite in ``tests/conftest.py``::

    pytest_plugins = ["tests.kafka.fixtures", "tests.postgres"]

The server binaries come from Debian's ``postgresql`` package (``tests/run.sh`` installs it
when missing); ``NUSERVE_PG_BIN`` may name another ``bin`` folder. PostgreSQL refuses to run
as root, so as root the cluster runs as the ``postgres`` user (``runuser``). Without the
binaries the fixture skips, except under CI (``CI`` set), where that is a setup error.

Manual use: ``python tests/postgres.py [seconds]`` starts one and prints its URL.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "nuserve"


def bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest installed major version)."""
    env = os.environ.get("NUSERVE_PG_BIN")
    candidates = [env] if env else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True)
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _major(path: str) -> int:
    try:
        return int(Path(path).parent.name)
    except ValueError:
        return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One cluster; ``start()`` returns its URL, ``stop()`` removes everything."""

    def __init__(self, binaries: Path) -> None:
        self.bin = binaries
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="nuserve-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # postgres will not run as root
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        result = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=timeout
        )
        if result.returncode:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr[-2000:]}\n{tail}"
            )

    def start(self) -> str:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import pg8000.dbapi

        conn = pg8000.dbapi.connect(
            user=USER, host="127.0.0.1", port=self.port, database="postgres"
        )
        conn.autocommit = True
        try:
            conn.cursor().execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(
                    str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
                )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    binaries = bin_dir()
    if binaries is None:
        message = (
            "PostgreSQL server binaries not found; apt-get install postgresql (tests/run.sh does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(binaries)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database on the session's cluster, one per test."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


if __name__ == "__main__":
    found = bin_dir()
    if found is None:
        sys.exit("no PostgreSQL binaries")
    pg = PostgresServer(found)
    try:
        print(pg.start(), flush=True)
        time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 3600)
    finally:
        pg.stop()
