"""Redaction of this machine's file paths from text that is about to reach a client.

Error messages name the problem, and often a file: ``model path /home/me/proj/m.pkl does not
exist``, or an ``OSError`` raised in model code. The directory layout of the server is nobody
else's business, and a client does not need it to understand the error, so an absolute path
becomes ``.../m.pkl``: the file's name stays, where it lives goes.

A path counts as this machine's when its first segment is a standard top-level directory (the
Filesystem Hierarchy Standard's, plus those of the interpreter and of the working directory).
URL paths such as ``/v2/models/m/infer`` start with none of them and are left alone, so the
messages that echo a request's path keep it. The logs keep the full text; only responses are
redacted. Redacting twice changes nothing.
"""

from __future__ import annotations

import os
import re
import sys

import orjson

HIDDEN = "..."
"""What stands for the directories of a redacted path."""
STANDARD_ROOTS = frozenset(
    {
        *("bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "media", "mnt", "opt"),
        *("private", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var"),
        *("Users", "Volumes"),
    }
)
"""Top-level directories whose paths are always redacted (FHS, plus macOS's)."""


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def _roots() -> frozenset[str]:
    places = (sys.prefix, sys.base_prefix, sys.exec_prefix, os.getcwd())
    return frozenset({*STANDARD_ROOTS, *(_first_segment(p) for p in places)} - {""})


_SEGMENT = r"[^\s/'\"`<>(),;:=\[\]{}|]+"
_PATH = re.compile(rf"(?<![\w.~/-])(?:file://)?/(?P<root>{_SEGMENT})(?:/{_SEGMENT})*/?")
_ROOTS = _roots()


def redact_paths(text: str) -> str:
    """``text`` with each absolute path of this machine shortened to ``.../<file name>``."""
    if "/" not in text:
        return text
    return _PATH.sub(_shorten, text)


def _shorten(match: re.Match[str]) -> str:
    path = match.group(0)
    if match.group("root") not in _ROOTS:
        return path
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return f"{HIDDEN}/{name}" if name else HIDDEN


def redact_error_body(body: bytes) -> bytes:
    """A JSON ``{"error": ...}`` body with its message redacted; any other body unchanged."""
    if b"/" not in body:
        return body
    try:
        answer = orjson.loads(body)
    except ValueError:
        return body
    if not isinstance(answer, dict) or not isinstance(answer.get("error"), str):
        return body
    redacted = redact_paths(answer["error"])
    if redacted == answer["error"]:
        return body
    return orjson.dumps({**answer, "error": redacted})
