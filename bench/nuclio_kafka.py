"""The Kafka exchanges under Nuclio's real processor and under ``nuserve serve``, compared.

Opt-in, like ``bench/nuclio_processor.py`` (whose steps it reuses: Nuclio's source and
``go build ./cmd/processor``, the processor's venv with Nuclio's Python pins into which the
deploy directory's build commands install nuserve, processor.yaml and platform.yaml). For
each Kafka version (the project's own KRaft test broker, ``tests/kafka/broker.py``: 3.9 and
4.1 by default) and each ack mode, one function is built twice, once per server, with the same
``fn.build(dir)`` and only its topic and group names told apart::

    iris (router: iris, and "boom", a model whose predict raises), a kafka-cluster trigger
    ("requests", one worker, 3 partitions), output_stream and error_stream on the broker

Modes: ``implicit`` (Nuclio acks when the handler returns), ``explicit`` (``explicit_ack=True``
as generated: ``handler:handler``), ``explicit-async`` (the same with
``fn.spec.handler = "handler:handler_async"``: the handler acks through
``context.platform.explicit_ack``; ``nuserve serve`` always runs that one).

The same messages go to each input topic before its server starts (good, two rows, malformed
JSON, NaN, Infinity, 1e400, unknown model, no model named, a user exception, a bad row,
tombstones, an empty value, bytes that are not utf-8, plain text, other and null headers,
lower-case and utf-8 request ids, an empty one, and several without ``X-Request-Id``; keyed and
unkeyed; partitions 0-2). Then, per message, compared between the two servers:

- its record: which topic (output or dead letter), key, headers and value; a value's
  ``timestamp`` is left out, and an id nuserve made (no ``X-Request-Id``) is checked to be
  unique and to be the key, the header and the body's id, then written ``<generated>``;
- exactly one record per message, and every key unique;
- the event the handler got: under Nuclio as its wrapper handed it (this directory's
  ``handler.py`` is ``bench/nuclio_probe.py``, which notes each event and calls nuserve's
  handler), for ``nuserve serve`` ``nuserve.serve.kafka.kafka_event`` of the same message
  (Nuclio's input topic read again), every field with its type; the id apart (Nuclio's
  repeats: how many distinct is printed);
- the committed offsets of each partition against the end offsets (Nuclio 1.14's Sarama
  never commits on Kafka 4.x: that row is expected to differ, see deploy/README.md).

Run: ``python bench/nuclio_kafka.py [--kafka 3.9.1 4.1.1] [--modes implicit explicit
explicit-async] [--json out.json]``; exit status 1 when anything differs that is not by design.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nuclio_sdk
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from nuclio_probe import describe
from nuclio_processor import (
    DEFAULT_CACHE,
    build_processor,
    checkout,
    nuserve_serve,
    processor_venv,
    real_processor,
    run,
)
from servers import ROOT

import nuserve
from nuserve.nuclio.kafka_compat import replays
from nuserve.serve.kafka import kafka_event

sys.path.insert(0, str(ROOT))
from tests.kafka.broker import KAFKA_39, KAFKA_VERSION, KafkaBroker
from tests.kafka.fixtures import new_topic

TRIGGER = "requests"
PARTITIONS = 3
ROWS = ([5.1, 3.5, 1.4, 0.2], [6.0, 2.9, 4.5, 1.5], [6.9, 3.1, 5.4, 2.1])
"""An iris row of each class (0, 1, 2): the answers without a request id differ by them."""
GENERATED = "<generated>"
SHOWN_EVENT = "other and null headers"
"""The message whose event is printed whole."""
MODES = {
    "implicit": {"explicit_ack": False, "handler": None},
    "explicit": {"explicit_ack": True, "handler": None},
    "explicit-async": {"explicit_ack": True, "handler": "handler:handler_async"},
}
BOOM = '''"""A model whose predict raises (the user exception of the comparison)."""

import nuserve


class Boom(nuserve.V2ModelServer):
    def load(self) -> None:
        pass

    def predict(self, request):
        raise RuntimeError(f"boom on {request['inputs']!r}")
'''


@dataclass
class Message:
    label: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    request_id: str | None = None
    """The id the answer must carry (the client's), ``None`` when nuserve makes one."""


@dataclass
class Run:
    """One server's run: where each message went and what came out."""

    server: str
    topics: dict[str, str]
    group: str
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    events: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    committed: list[int] = field(default_factory=list)
    end_offsets: list[int] = field(default_factory=list)
    seconds: float = 0.0


def infer(model: str, *rows: Any) -> bytes:
    return json.dumps({"model": model, "inputs": list(rows)}).encode()


def messages() -> list[Message]:
    """Every kind of message; the ones without a request id are told apart by their answer."""

    def rid(value: str) -> list[tuple[str, bytes | None]]:
        return [("X-Request-Id", value.encode())]

    cases: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes | None]]]] = [
        ("good", b"k-good", infer("iris", ROWS[0]), rid("req-good")),
        ("two rows", None, infer("iris", ROWS[0], ROWS[1]), rid("req-rows")),
        ("malformed JSON", None, b'{"model": "iris", "inputs": [[1, 2', rid("req-malformed")),
        ("NaN", None, b'{"model": "iris", "inputs": [[NaN, 1, 2, 3]]}', rid("req-nan")),
        ("Infinity", b"k-inf", b'{"model": "iris", "inputs": [[Infinity, 1, 2, 3]]}',
         rid("req-inf")),
        ("1e400", None, b'{"model": "iris", "inputs": [[1e400, 1, 2, 3]]}', rid("req-1e400")),
        ("unknown model", None, infer("nope", ROWS[0]), rid("req-unknown")),
        ("no model named", None, json.dumps({"inputs": [ROWS[0]]}).encode(), rid("req-nomodel")),
        ("user exception", b"k-boom", infer("boom", 1, 2), rid("req-boom")),
        ("bad row", None, infer("iris", [1, 2]), rid("req-badrow")),
        ("tombstone", b"k-tomb", None, rid("req-tomb")),
        ("empty value", None, b"", rid("req-empty")),
        ("not utf-8", None, b"\xff\xfe{", rid("req-bytes")),
        ("plain text", None, b"hello", rid("req-text")),
        ("other and null headers", b"k-h", infer("iris", ROWS[1]),
         [("X-Request-Id", b"req-headers"), ("traceparent", b"00-4bf92f-01"), ("x-null", None),
          ("x-bin", b"\x00\xff")]),
        ("lower-case x-request-id", None, infer("iris", ROWS[2]), [("x-request-id", b"req-lc")]),
        ("utf-8 request id", None, infer("iris", ROWS[1]), rid("req-é")),
        ("empty X-Request-Id", None, infer("iris", ROWS[2], ROWS[2]), [("X-Request-Id", b"")]),
        ("no id #1", None, infer("iris", ROWS[0]), []),
        ("no id #2", b"k-noid", infer("iris", ROWS[1]), [("traceparent", b"00-a-01")]),
        ("no id #3", None, infer("iris", ROWS[2]), []),
        ("no id, two rows", None, infer("iris", ROWS[1], ROWS[0]), []),
        ("no id, tombstone", None, None, []),
        ("no id, malformed", None, b"{", []),
        ("no id, user exception", None, infer("boom", 3), []),
    ]  # fmt: skip
    out = []
    for i, (label, key, value, headers) in enumerate(cases):
        given = dict(headers).get("X-Request-Id") or dict(headers).get("x-request-id")
        request_id = given.decode() if given else None
        out.append(Message(label, i % PARTITIONS, key, value, headers, request_id))
    return out


# --------------------------------------------------------------------------- the function


def build(work: Path, model: Path, broker: KafkaBroker, mode: str, server: str) -> tuple[Path, Run]:
    """The function's deploy directory for one server; its topics are created empty."""
    tag = f"{mode}-{server}-{uuid.uuid4().hex[:6]}"
    topics = {"in": f"{tag}-in", "out": f"{tag}-out", "err": f"{tag}-err"}
    bootstrap = broker.bootstrap
    code = work / "code"
    code.mkdir(exist_ok=True)
    (code / "boom_model.py").write_text(BOOM)
    fn = nuserve.code_to_function(
        "iris", filename=str(ROOT / "examples/iris/iris_model.py"), kind="serving",
        requirements=["scikit-learn>=1.4,<2"],
    )  # fmt: skip
    fn.set_topology("router")
    fn.add_model("iris", class_name="IrisClassifier", model_path=str(model))
    fn.add_model("boom", class_name="boom_model.Boom")
    fn.spec.output_stream = f"kafka://{bootstrap}?topic={topics['out']}"
    fn.spec.error_stream = f"kafka://{bootstrap}?topic={topics['err']}"
    fn.add_kafka_trigger(
        TRIGGER, brokers=bootstrap, topics=topics["in"], consumer_group=f"{tag}-g",
        explicit_ack=bool(MODES[mode]["explicit_ack"]), kafka_version=broker.version,
    )  # fmt: skip
    if MODES[mode]["handler"]:
        fn.spec.handler = str(MODES[mode]["handler"])
    directory = Path(fn.build(work / tag, include=[code / "boom_model.py"]).directory)
    for name, partitions in (("in", PARTITIONS), ("out", 1), ("err", 1)):
        new_topic(broker, topics[name], partitions)
    return directory, Run(server, topics, f"{tag}-g")


def same_function(nuclio: Path, nuserve_dir: Path, a: Run, b: Run) -> list[str]:
    """The two function.yamls differ only by their topic and group names (else: the lines)."""
    texts = [(nuclio / "function.yaml").read_text(), (nuserve_dir / "function.yaml").read_text()]
    for run_, i in ((a, 0), (b, 1)):
        tag = run_.group[: -len("-g")]
        texts[i] = texts[i].replace(tag, "<tag>")
    first, second = (t.splitlines() for t in texts)
    return [f"{x!r} != {y!r}" for x, y in zip(first, second, strict=False) if x != y]


# --------------------------------------------------------------------------- kafka


def produce(bootstrap: str, run_: Run, batch: list[Message]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
    for message in batch:

        def done(err: Any, msg: Any, label: str = message.label) -> None:
            if err is not None:
                raise RuntimeError(f"{label}: {err}")
            run_.positions[label] = (msg.partition(), msg.offset())

        producer.produce(
            run_.topics["in"], message.value, message.key, partition=message.partition,
            headers=message.headers, on_delivery=done,
        )  # fmt: skip
        producer.flush(30)  # one at a time: offsets in the order of the list
    if producer.flush(30) != 0 or len(run_.positions) != len(batch):
        raise RuntimeError("not every message was delivered to the input topic")


@contextlib.contextmanager
def reader(bootstrap: str, topics: list[tuple[str, int]]) -> Iterator[Consumer]:
    """A consumer of each partition of ``topics`` (name, partition count) from the start."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })  # fmt: skip
    consumer.assign([TopicPartition(t, p, 0) for t, count in topics for p in range(count)])
    try:
        yield consumer
    finally:
        consumer.close()


def collect(bootstrap: str, run_: Run, expected: int, timeout: float, linger: float) -> None:
    """Output and dead-letter records until ``expected`` came (then ``linger`` s for extras)."""
    began = time.monotonic()
    settled: float | None = None
    with reader(bootstrap, [(run_.topics["out"], 1), (run_.topics["err"], 1)]) as consumer:
        while time.monotonic() - began < timeout:
            if settled is not None and time.monotonic() - settled > linger:
                break
            message = consumer.poll(0.2)
            if message is None or message.error() is not None:
                continue
            run_.records.append({
                "stream": "output" if message.topic() == run_.topics["out"] else "dead letter",
                "key": message.key(), "value": message.value(),
                "headers": list(message.headers() or []),
            })  # fmt: skip
            if len(run_.records) >= expected and settled is None:
                settled = time.monotonic()
                run_.seconds = settled - began


def offsets(bootstrap: str, run_: Run, want_all: bool, timeout: float) -> None:
    """The group's committed offsets and the end offsets, per input partition; waits up to
    ``timeout`` for them to meet (less when they are not expected to)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = run_.topics["in"]
    with reader(bootstrap, []) as consumer:
        run_.end_offsets = [
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(PARTITIONS)
        ]
    deadline = time.monotonic() + (timeout if want_all else min(timeout, 6.0))
    while True:
        request = ConsumerGroupTopicPartitions(
            run_.group, [TopicPartition(topic, p) for p in range(PARTITIONS)]
        )
        result = admin.list_consumer_group_offsets([request], request_timeout=10)
        parts = result[run_.group].result().topic_partitions
        run_.committed = [max(tp.offset, 0) for tp in sorted(parts, key=lambda tp: tp.partition)]
        if run_.committed == run_.end_offsets or time.monotonic() > deadline:
            return
        time.sleep(0.5)


def serve_events(bootstrap: str, topic: str, count: int) -> dict[tuple[int, int], dict[str, Any]]:
    """``describe(kafka_event(message))`` of each message of ``topic``: what ``nuserve serve``
    hands the handler for it."""
    info = nuclio_sdk.TriggerInfo("kafka-cluster", TRIGGER)
    found: dict[tuple[int, int], dict[str, Any]] = {}
    deadline = time.monotonic() + 30
    with reader(bootstrap, [(topic, PARTITIONS)]) as consumer:
        while len(found) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                found[(message.partition(), message.offset())] = describe(
                    kafka_event(message, info)
                )
    return found


# --------------------------------------------------------------------------- one run


def run_server(
    ctx: dict[str, Any], directory: Path, run_: Run, batch: list[Message], work: Path
) -> None:
    bootstrap = ctx["bootstrap"]
    produce(bootstrap, run_, batch)
    log_dir = work / f"logs-{run_.group}"
    log_dir.mkdir()
    if run_.server == "nuclio":
        shutil.copy(Path(__file__).with_name("nuclio_probe.py"), directory / "handler.py")
        server = real_processor(ctx["binary"], ctx["tree"], ctx["env_dir"], directory, log_dir, 1)
    else:
        server = nuserve_serve(directory, log_dir, 1)
    with server:
        collect(bootstrap, run_, len(batch), timeout=120, linger=3)
        commits = not (run_.server == "nuclio" and replays(None, ctx["kafka"]))
        offsets(bootstrap, run_, commits, timeout=20)
    if run_.server == "nuclio":
        events = directory / "events.jsonl"
        lines = events.read_text().splitlines() if events.is_file() else []
        for line in lines:
            described = json.loads(line)
            where = (_number(described["shard_id"]), _number(described["offset"]))
            run_.events.setdefault(where, described)  # a replay is noted by its first
        ctx["nuclio_ids"] = [json.loads(line)["id"] for line in lines]
        ctx["serve_events"] = serve_events(bootstrap, run_.topics["in"], len(batch))


def _number(typed_value: str) -> int:
    """The int of a ``describe`` field (``"int: 3"``)."""
    return int(typed_value.split(": ", 1)[1])


# --------------------------------------------------------------------------- comparing


def normal(record: dict[str, Any], message: Message, run_: Run) -> dict[str, Any]:
    """A record with what is process-specific replaced: a value's timestamp, the input
    topic's name, and an id nuserve made (checked to be key, header and body id alike)."""
    value: Any = record["value"]
    with contextlib.suppress(TypeError, ValueError):
        value = json.loads(value)
    key = record["key"].decode() if record["key"] is not None else None
    headers = [(k, v.decode() if v is not None else None) for k, v in record["headers"]]
    if isinstance(value, dict):
        value.pop("timestamp", None)
        if value.get("topic") == run_.topics["in"]:
            value["topic"] = "<input topic>"
    generated = message.request_id is None
    if generated:
        key = GENERATED if key is not None else None
        headers = [(k, GENERATED if k == "X-Request-Id" else v) for k, v in headers]
        if isinstance(value, dict) and "id" in value:
            value["id"] = GENERATED
    return {"stream": record["stream"], "key": key, "headers": headers, "value": value}


def match(run_: Run, batch: list[Message]) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Each message's records, and the problems seen within this run."""
    problems: list[str] = []
    by_position = {pos: label for label, pos in run_.positions.items()}
    by_id = {m.request_id: m.label for m in batch if m.request_id is not None}
    found: dict[str, list[dict[str, Any]]] = {m.label: [] for m in batch}
    keys: list[bytes | None] = []
    for record in run_.records:
        keys.append(record["key"])
        try:
            value = json.loads(record["value"])
        except ValueError:
            problems.append(f"a record that is not JSON: {record['value']!r}")
            continue
        header = dict(record["headers"]).get("X-Request-Id")
        if record["key"] != header or (record["key"] or b"").decode() != value.get("id"):
            problems.append(f"key, X-Request-Id header and body id differ: {record}")
        if record["stream"] == "dead letter":
            label = by_position.get((value.get("partition"), value.get("offset")))
        else:
            label = by_id.get(value.get("id"))
            if label is None:  # no request id: told apart by the answer
                label = next(
                    (m.label for m in batch if m.request_id is None and m.value is not None
                     and json.loads(m.value)["inputs"] == _rows(value)),
                    None,
                )  # fmt: skip
        if label is None:
            problems.append(f"a record of no message: {record}")
            continue
        found[label].append(record)
    if len(set(keys)) != len(keys):
        problems.append(f"{len(keys) - len(set(keys))} record keys repeat")
    return found, problems


def _rows(answer: dict[str, Any]) -> list[list[float]] | None:
    classes = answer.get("outputs")
    if not isinstance(classes, list) or not all(isinstance(c, int) for c in classes):
        return None
    return [ROWS[c] for c in classes]


def compare(
    runs: dict[str, Run], batch: list[Message], ctx: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """(lines to print, differences not by design)."""
    lines: list[str] = []
    differences: list[str] = []
    matched = {}
    for name, run_ in runs.items():
        found, problems = match(run_, batch)
        matched[name] = found
        for problem in problems:
            differences.append(f"{name}: {problem}")
        lines.append(
            f"  {name}: {len(run_.records)} records for {len(batch)} messages in "
            f"{run_.seconds:.1f} s; committed {run_.committed} of {run_.end_offsets}"
        )
    for message in batch:
        answers = {}
        for name, run_ in runs.items():
            records = matched[name][message.label]
            if len(records) != 1:
                differences.append(f"{name}: {message.label!r} has {len(records)} records")
            answers[name] = [normal(r, message, run_) for r in records]
        same = answers["nuclio"] == answers["nuserve"]
        shown = answers["nuserve"][0] if answers["nuserve"] else None
        summary = (
            f"{shown['stream']} {json.dumps(shown['value'], ensure_ascii=False)[:110]}"
            if shown
            else "no record"
        )
        lines.append(f"  - {message.label}: {'same' if same else 'DIFFERS'}: {summary}")
        if not same:
            differences.append(f"record of {message.label!r}")
            for name in runs:
                lines.append(f"      {name:8} {answers[name]}")
    # the events each handler got
    nuclio_run = runs["nuclio"]
    serve_events = ctx.get("serve_events", {})
    event_diffs = 0
    for message in batch:
        where = nuclio_run.positions[message.label]
        got, ours = nuclio_run.events.get(where), serve_events.get(where)
        if got is None or ours is None:
            differences.append(f"event of {message.label!r}: nuclio {got is not None}, "
                               f"serve {ours is not None}")  # fmt: skip
            continue
        fields = sorted(k for k in got if k != "id" and got[k] != ours.get(k))
        if fields:
            event_diffs += 1
            differences.append(f"event of {message.label!r}: {fields}")
            for name in fields:
                lines.append(f"      event {message.label}: {name}: nuclio {got[name]} | "
                             f"nuserve serve {ours.get(name)}")  # fmt: skip
    shown_event = nuclio_run.events.get(nuclio_run.positions[SHOWN_EVENT])
    if shown_event is not None:
        lines.append(f"  the event of {SHOWN_EVENT!r} under both: {json.dumps(shown_event)}")
    ids = ctx.get("nuclio_ids", [])
    lines.append(
        f"  events: {len(batch) - event_diffs} of {len(batch)} the same field by field (the id "
        f"apart); Nuclio's event ids: {len(set(ids))} distinct over {len(ids)} events"
    )
    nuclio_commits = nuclio_run.committed == nuclio_run.end_offsets
    serve_commits = runs["nuserve"].committed == runs["nuserve"].end_offsets
    expected = not replays(None, ctx["kafka"])
    if serve_commits is not True:
        differences.append("nuserve serve did not commit every offset")
    if nuclio_commits != expected:
        differences.append(f"Nuclio committed: {nuclio_commits}, expected {expected}")
    if nuclio_commits != serve_commits:
        lines.append(
            f"  commits differ (by design on Kafka {ctx['kafka']}: Nuclio 1.14 never commits "
            "there, deploy/README.md)"
            if not expected
            else "  commits DIFFER"
        )
    return lines, differences


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--nuclio", default="/work/.mirror/nuclio+nuclio/repo")
    parser.add_argument("--tag", default="1.14.1")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--kafka", nargs="+", default=[KAFKA_39, KAFKA_VERSION])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    tree = checkout(args.nuclio, args.tag, args.cache)
    binary = build_processor(tree, args.tag, args.cache)
    batch = messages()
    results: list[dict[str, Any]] = []
    all_differences: list[str] = []
    with tempfile.TemporaryDirectory(prefix="nuclio-kafka-") as tmp:
        work = Path(tmp)
        model = work / "model"
        run([sys.executable, str(ROOT / "examples/iris/train.py"), str(model)],
            cwd=ROOT, capture_output=True)  # fmt: skip
        env_dir: Path | None = None
        for kafka in args.kafka:
            with KafkaBroker(version=kafka, heap="384m") as broker:
                ctx: dict[str, Any] = {
                    "bootstrap": broker.bootstrap, "kafka": kafka, "binary": binary, "tree": tree,
                }  # fmt: skip
                for mode in args.modes:
                    dirs, runs = {}, {}
                    for server in ("nuclio", "nuserve"):
                        dirs[server], runs[server] = build(work, model, broker, mode, server)
                    if env_dir is None:
                        env_dir = processor_venv(tree, args.cache, dirs["nuclio"])
                    ctx["env_dir"] = env_dir
                    yaml_diff = same_function(dirs["nuclio"], dirs["nuserve"], *runs.values())
                    for server in ("nuclio", "nuserve"):
                        run_server(ctx, dirs[server], runs[server], batch, work)
                    lines, differences = compare(runs, batch, ctx)
                    differences += [f"function.yaml: {d}" for d in yaml_diff]
                    print(f"\n== Kafka {kafka}, {mode} ack: {len(batch)} messages, "
                          f"{len(differences)} differences not by design")  # fmt: skip
                    print("\n".join(lines))
                    for difference in differences:
                        print(f"  ! {difference}")
                    all_differences += [f"{kafka} {mode}: {d}" for d in differences]
                    results.append({"kafka": kafka, "mode": mode, "lines": lines,
                                    "differences": differences})  # fmt: skip
    print(f"\n{len(all_differences)} differences not by design in all")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 1 if all_differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
