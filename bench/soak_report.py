"""What a soak measured, and how it reads: the per-sample line, the report, the verdict.

``soak.py`` runs the soak and fills a ``Soak``; everything here only reads it. The verdict
follows issue 9's item 5: no non-model error, VmRSS growth under 10 % after the warm-up (at
the end and at its highest), every 2xx answer's tracking record delivered once, nothing
dropped, no worker replaced. ``write_results`` replaces the "Soak" section of
``bench/RESULTS.md``, the rest of the file staying as it is.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import soak_load
import soak_metrics
import soak_procs
import soak_topic
from run import git_commit

RESULTS = Path(__file__).resolve().with_name("RESULTS.md")
SECTION = "## Soak"
RSS_GOAL_PCT = 10.0
ABOUT = (
    "`nuserve serve` of the iris model with Kafka tracking of every request (a real broker on "
    "127.0.0.1), loaded at a fixed concurrency by `bench/soak_load.py`; each request carries "
    "its own `X-Request-Id`, and the tracking topic is read back at the end and matched to "
    "the 2xx answers by that id. VmRSS (supervisor + workers) is compared with its value at "
    "the end of the warm-up. The floor is the same function without tracking, same workers "
    "and load, run just before. Issue 9, item 5 asks for 0 non-model errors, VmRSS growth "
    "under 10 % after warm-up and every tracking record delivered."
)


@dataclass(frozen=True)
class Options:
    """What the soak was asked to do (``soak.py``'s flags); seconds, unless said."""

    duration: float
    warmup: float
    concurrency: int
    workers: int
    interval: float
    floor: float
    drain_timeout: float
    read_timeout: float


@dataclass(frozen=True)
class Sample:
    """One line of the soak: the load so far, the server's memory, its tracking counters."""

    at: float
    answers: int
    latencies: int
    """Answers with a latency recorded so far (an index into ``Tally.latencies``)."""
    failed: dict[int, int]
    """Answers outside 2xx so far, by status."""
    errors: dict[str, int]
    """Connection-level failures so far, by kind."""
    memory: soak_procs.Memory | None
    scrape: soak_metrics.Scrape | None


@dataclass
class Soak:
    """Everything the soak measured."""

    tally: soak_load.Tally
    samples: list[Sample] = field(default_factory=list)
    scrape_failures: list[str] = field(default_factory=list)
    workers_seen: set[int] = field(default_factory=set)
    server_died: bool = False
    drain_s: float | None = None
    drained: soak_metrics.Scrape | None = None
    delivery: soak_topic.Delivery | None = None
    exit_code: int | None = None
    log_problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Floor:
    """The same load on the same function without tracking."""

    seconds: float
    tally: soak_load.Tally
    start: int
    """The first answer after the floor's warm-up (an index into ``tally.latencies``)."""


def sample_line(sample: Sample, result: Soak) -> str:
    """The printed line of ``sample`` (the latest in ``result.samples``)."""
    previous = result.samples[-2] if len(result.samples) > 1 else None
    if previous is not None and sample.at > previous.at:
        rate = (sample.answers - previous.answers) / (sample.at - previous.at)
        p99 = result.tally.latency_summary(previous.latencies, sample.latencies)["p99_ms"]
        load = f"{rate:6.0f}/s p99 {p99:7.1f} ms"
    else:
        load = " " * 23
    memory = sample.memory
    if memory is None:
        rss = "server gone"
    else:
        each = " ".join(f"{kb / 1024:.1f}" for _, kb in sorted(memory.workers_kb.items()))
        rss = f"sup {memory.supervisor_kb / 1024:.1f} w {each} = {memory.total_kb / 1024:.1f}"
    scrape = sample.scrape
    tracking = (
        "metrics: no answer"
        if scrape is None
        else f"sent {scrape.sent} queued {scrape.queued} dropped {scrape.dropped}"
    )
    return (
        f"[{sample.at:6.1f} s] answers {sample.answers:8d} {load} | non-2xx {sample.failed or 0} "
        f"conn-err {sample.errors or 0} | RSS MB {rss} | tracking {tracking}"
    )


def growth(base: float, value: float) -> float:
    return (value - base) / base * 100 if base else float("nan")


@dataclass(frozen=True)
class Criterion:
    what: str
    measured: str
    target: str
    met: bool

    def row(self) -> str:
        verdict = "met" if self.met else "**missed**"
        return f"| {self.what} | {self.measured} | {self.target} | {verdict} |"


def figures(tally: soak_load.Tally, start: int, end: int, seconds: float) -> dict[str, float]:
    answers = end - start
    return {
        "seconds": seconds,
        "answers": answers,
        "rps": answers / seconds if seconds else 0.0,
        **tally.latency_summary(start, end),
    }


def report(options: Options, floor: Floor, result: Soak, topic: str) -> tuple[str, list[Criterion]]:
    tally = result.tally
    samples = [s for s in result.samples if s.memory is not None]
    base = next((s for s in samples if s.at >= options.warmup - 1e-6), None)
    last = samples[-1] if samples else None
    lines = [
        f"nuserve serve --workers {options.workers}, Kafka tracking of every request to topic "
        f"{topic}; concurrency {options.concurrency}; {options.duration:.0f} s of load, "
        f"{options.warmup:.0f} s warm-up; a sample every {options.interval:.0f} s",
        "load generator: bench/soak_load.py (asyncio, keep-alive, one X-Request-Id per "
        "request), no CPU pinning; broker, server and load share the machine",
        "",
    ]
    floor_figures = figures(floor.tally, floor.start, len(floor.tally.latencies), floor.seconds)
    if base is not None and last is not None and last.at > base.at:
        soak_figures = figures(tally, base.latencies, last.latencies, last.at - base.at)
        measured = f"after warm-up ({last.at - base.at:.0f} s)"
    else:
        soak_figures = figures(tally, 0, len(tally.latencies), last.at if last else 0.0)
        measured = "whole run (no sample after the warm-up)"
    lines += [
        f"{'':<26}{'floor: no tracking':>22}{'soak: Kafka tracking':>24}",
        f"{'measured over':<26}{f'{floor.seconds:.0f} s':>22}{measured:>24}",
    ]
    for key, label, fmt in (
        ("answers", "answers", "{:.0f}"),
        ("rps", "req/s", "{:.0f}"),
        ("p50_ms", "p50 ms", "{:.2f}"),
        ("p99_ms", "p99 ms", "{:.2f}"),
        ("max_ms", "max ms", "{:.2f}"),
    ):
        left, right = fmt.format(floor_figures[key]), fmt.format(soak_figures[key])
        lines.append(f"{label:<26}{left:>22}{right:>24}")
    lines += [
        f"{'non-2xx answers (whole run)':<26}{floor.tally.non_2xx:>22}{tally.non_2xx:>24}",
        f"{'connection errors':<26}{sum(floor.tally.errors.values()):>22}"
        f"{sum(tally.errors.values()):>24}",
    ]
    for name, t in (("floor", floor.tally), ("soak", tally)):
        if t.non_2xx or t.errors:
            lines.append(f"  {name}: statuses {t.failed_statuses}, errors {dict(t.errors)}")
    lines += ["", *memory_lines(base, last, samples)]
    lines += ["", *tracking_lines(result)]
    lines += ["", *server_lines(options, result)]
    return "\n".join(lines), criteria(options, result, base, last, samples)


def memory_lines(base: Sample | None, last: Sample | None, samples: list[Sample]) -> list[str]:
    """VmRSS per process: at the start, at the end of the warm-up (the baseline), at the end,
    the highest after the warm-up, and the growth over the baseline."""
    if base is None or last is None or base.memory is None or last.memory is None:
        return ["VmRSS: no sample after the warm-up (the server stopped early)"]
    first, base_memory, last_memory = samples[0].memory, base.memory, last.memory
    after = [s.memory for s in samples if s.at >= base.at and s.memory is not None]
    rows = [
        f"{'VmRSS MB':<16}{'start':>9}{'warm-up':>9}{'end':>9}{'max':>9}{'growth end':>12}"
        f"{'growth max':>12}"
    ]

    def row(name: str, pick: Callable[[soak_procs.Memory], int | None]) -> None:
        present = [v for v in map(pick, after) if v is not None]
        start_kb = pick(first) if first is not None else None
        base_kb, end_kb = pick(base_memory), pick(last_memory)
        if base_kb is None or end_kb is None or len(present) < len(after):
            rows.append(f"{name:<16}  (not there the whole time after the warm-up)")
            return
        top = max(present)
        rows.append(
            f"{name:<16}{(start_kb or 0) / 1024:>9.1f}{base_kb / 1024:>9.1f}{end_kb / 1024:>9.1f}"
            f"{top / 1024:>9.1f}{growth(base_kb, end_kb):>11.1f}%{growth(base_kb, top):>11.1f}%"
        )

    row("supervisor", lambda m: m.supervisor_kb)
    for pid in sorted(base_memory.workers_kb):
        row(f"worker {pid}", lambda m, pid=pid: m.workers_kb.get(pid))
    row("total", lambda m: m.total_kb)
    return rows


def tracking_lines(result: Soak) -> list[str]:
    lines = []
    scrape = result.drained
    if scrape is None:
        lines.append("tracking: /metrics never answered after the load")
    else:
        drained = (
            f"drained in {result.drain_s:.1f} s"
            if result.drain_s is not None
            else "**not drained** in time"
        )
        lines.append(
            f"tracking (/metrics, {drained}): tracked {scrape.tracked}, sent {scrape.sent}, "
            f"dropped {scrape.dropped}, queued {scrape.queued}, retried {scrape.retried}, "
            f"errors {scrape.tracking_errors}"
        )
    delivery = result.delivery
    if delivery is None:
        lines.append("topic: not read")
        return lines
    share = delivery.delivered / delivery.expected * 100 if delivery.expected else 0.0
    lines += [
        f"topic: {delivery.records} records read"
        f"{'' if delivery.complete else ' (**not to the end** within the time limit)'}; "
        f"2xx answers {delivery.expected}, with a record {delivery.delivered} ({share:.3f} %), "
        f"missing {delivery.missing}, duplicates {delivery.duplicates}",
        f"       records of requests never answered {delivery.unanswered}, of error answers "
        f"{delivery.failed}, not from the load generator (readiness probes) {delivery.foreign}",
    ]
    return lines


def server_lines(options: Options, result: Soak) -> list[str]:
    restarts = max(0, len(result.workers_seen) - options.workers)
    lines = [
        f"server: worker pids seen {sorted(result.workers_seen)} ({restarts} replaced); "
        f"exit code after SIGTERM {result.exit_code}"
        f"{'; **it died during the soak**' if result.server_died else ''}",
    ]
    if result.scrape_failures:
        lines.append(
            f"/metrics failures: {len(result.scrape_failures)}, first: {result.scrape_failures[0]}"
        )
    if result.log_problems:
        lines.append("server log lines that report problems:")
        lines += [f"  {line}" for line in result.log_problems]
    else:
        lines.append("server log: no error, warning or traceback")
    return lines


def criteria(
    options: Options,
    result: Soak,
    base: Sample | None,
    last: Sample | None,
    samples: list[Sample],
) -> list[Criterion]:
    tally = result.tally
    errors = tally.non_2xx + sum(tally.errors.values())
    found = [
        Criterion(
            "non-model errors (non-2xx answers + connection errors)",
            str(errors),
            "0",
            errors == 0 and not result.server_died,
        )
    ]
    if base is not None and last is not None and base.memory and last.memory:
        base_kb = base.memory.total_kb
        top = max(s.memory.total_kb for s in samples if s.at >= base.at and s.memory)
        for label, value in (("end", last.memory.total_kb), ("max", top)):
            pct = growth(base_kb, value)
            found.append(
                Criterion(
                    f"VmRSS growth after warm-up, {label} (supervisor + workers)",
                    f"{pct:.1f} %",
                    f"< {RSS_GOAL_PCT:g} %",
                    pct < RSS_GOAL_PCT,
                )
            )
    else:
        found.append(Criterion("VmRSS growth after warm-up", "no baseline", "< 10 %", False))
    delivery = result.delivery
    if delivery is not None:
        found.append(
            Criterion(
                "tracking records delivered / 2xx answers",
                f"{delivery.delivered} / {delivery.expected}",
                "all, no duplicates",
                delivery.missing == 0 and delivery.duplicates == 0 and delivery.complete,
            )
        )
    drained = result.drained
    dropped = drained.dropped if drained is not None else -1
    found.append(Criterion("tracking records dropped (/metrics)", str(dropped), "0", dropped == 0))
    restarts = max(0, len(result.workers_seen) - options.workers)
    found.append(Criterion("workers replaced", str(restarts), "0", restarts == 0))
    code = result.exit_code
    found.append(Criterion("server exit code after SIGTERM", str(code), "0", code == 0))
    return found


def criteria_table(found: list[Criterion]) -> str:
    head = "| criterion | measured | target | verdict |\n|---|---:|---:|---|"
    return "\n".join([head, *(c.row() for c in found)])


def write_results(text: str, table: str, started: float) -> None:
    """Replace the Soak section of RESULTS.md (up to the next ``## `` heading) with this run."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace").splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), "?")
    section = "\n".join(
        [
            SECTION,
            "",
            ABOUT,
            "",
            f"- Command: `{shlex.join(['.venv/bin/python', 'bench/soak.py', *sys.argv[1:]])}`",
            f"- Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}; "
            f"{time.monotonic() - started:.0f} s in all",
            f"- Machine: nproc {os.cpu_count()}, CPU `{cpu}`, Python "
            f"{platform.python_version()}; commit {git_commit()}",
            "",
            table,
            "",
            "```text",
            text,
            "```",
            "",
        ]
    )
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else ""
    lines = old.splitlines(keepends=True)
    begin = next((i for i, x in enumerate(lines) if x.rstrip() == SECTION), None)
    if begin is None:
        new = old.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(begin + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        rest = "".join(lines[end:])
        new = "".join(lines[:begin]) + section + ("\n" + rest if rest else "")
    RESULTS.write_text(new, encoding="utf-8")
    print(f"wrote the Soak section of {RESULTS}", file=sys.stderr)
