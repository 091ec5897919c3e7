"""Resident memory of a server and its worker processes, read from ``/proc`` (Linux only).

``nuserve serve --workers N`` is a supervisor (uvicorn's) and N worker processes it spawned
(``multiprocessing``); the spawn method also starts a ``resource_tracker`` helper, which is
not a worker and is left out. Workers are found anew at each sample, so a worker that dies
and is replaced shows up as a new pid (the soak counts those).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Memory:
    """VmRSS in kB of the supervisor and of each worker (by pid) at one moment."""

    supervisor_kb: int
    workers_kb: dict[int, int]

    @property
    def total_kb(self) -> int:
        return self.supervisor_kb + sum(self.workers_kb.values())


def rss_kb(pid: int) -> int | None:
    """``VmRSS`` of ``pid`` in kB, or ``None`` when it is gone (or a zombie)."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def children(pid: int) -> list[int]:
    """The live child processes of ``pid``."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            fields = stat.rpartition(")")[2].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def is_helper(pid: int) -> bool:
    """Whether ``pid`` is multiprocessing's resource tracker rather than a worker."""
    try:
        cmdline = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return True
    return b"resource_tracker" in cmdline


def memory(supervisor: int) -> Memory | None:
    """The server's memory now, or ``None`` when the supervisor is gone."""
    own = rss_kb(supervisor)
    if own is None:
        return None
    workers = {}
    for pid in children(supervisor):
        if is_helper(pid):
            continue
        kb = rss_kb(pid)
        if kb is not None:
            workers[pid] = kb
    return Memory(own, workers)
