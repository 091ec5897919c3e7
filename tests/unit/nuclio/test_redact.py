"""Redaction of this machine's paths from error text bound for a client."""

from __future__ import annotations

import os
import sys

import orjson
import pytest

from nuserve.nuclio.redact import redact_error_body, redact_paths


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (
            "model path /home/me/proj/m.pkl does not exist (looked for /home/me/proj/m.pkl)",
            "model path .../m.pkl does not exist (looked for .../m.pkl)",
        ),
        (
            "[Errno 2] No such file or directory: '/tmp/x/weights.bin'",
            "[Errno 2] No such file or directory: '.../weights.bin'",
        ),
        ('File "/usr/lib/python3.11/json/decoder.py", line 3', 'File ".../decoder.py", line 3'),
        ("cannot read file:///var/models/m.pkl", "cannot read .../m.pkl"),
        ("directory /srv/models/", "directory .../models"),
        ("under /etc", "under .../etc"),
    ],
)
def test_paths_of_this_machine_keep_only_their_file_name(text: str, redacted: str) -> None:
    assert redact_paths(text) == redacted
    assert redact_paths(redacted) == redacted  # twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "model 'x' has no operation '__class__'",
        "no route for POST /v2/models/x/infer",
        "remote http://127.0.0.1:9000/v2/models/x answered 500",
        "s3://bucket/home/m.pkl does not exist",
        "expected shape (1, 4)/(2, 4)",
        "ratio 3/4 and a/b",
    ],
)
def test_urls_request_paths_and_other_slashes_are_kept(text: str) -> None:
    assert redact_paths(text) == text


def test_the_interpreter_and_working_directory_roots_are_redacted() -> None:
    for place in (sys.prefix, os.getcwd()):
        assert redact_paths(f"at {place}/lib/x.py") == "at .../x.py"


def test_error_bodies() -> None:
    body = orjson.dumps({"error": "cannot open /home/me/m.pkl", "id": "1"})
    assert orjson.loads(redact_error_body(body)) == {"error": "cannot open .../m.pkl", "id": "1"}
    for untouched in (b"not json /home/x", b'["/home/x"]', b'{"outputs": ["/home/x"]}', b"{}"):
        assert redact_error_body(untouched) == untouched
