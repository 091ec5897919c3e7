"""Dependency audit of the installed environment (``tests/run.sh`` runs it before pytest).

``pip-audit`` asks PyPI's vulnerability data about each installed distribution (nuserve
itself, installed editable, is skipped). A known vulnerability fails the run: raise the
lower bound of that dependency in ``pyproject.toml``. A dependency the service could not
answer for is listed, not failed: some networks reach PyPI's package index but not its
per-release JSON, and then no dependency can be audited at all. The run says so loudly, and
``NUSERVE_AUDIT_STRICT=1`` (or ``--strict``) turns that into a failure.

Usage: python tests/audit.py [--strict]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT_S = 300


def main(argv: list[str]) -> int:
    strict = "--strict" in argv or os.environ.get("NUSERVE_AUDIT_STRICT") == "1"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp, "audit.json")
        command = [
            str(Path(sys.executable).with_name("pip-audit")),
            *("--local", "--skip-editable", "--vulnerability-service", "pypi"),
            *("--progress-spinner", "off", "--format", "json", "--output", str(report)),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return unaudited(f"pip-audit did not finish in {TIMEOUT_S} s", strict)
        if not report.is_file():
            return unaudited(f"pip-audit wrote no report: {done.stderr.strip()[-500:]}", strict)
        dependencies = json.loads(report.read_text())["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    audited = len(dependencies) - len(skipped)
    print(f"audited {audited} of {len(dependencies)} installed distributions")
    if vulnerable:
        print("raise the lower bounds of these dependencies in pyproject.toml", file=sys.stderr)
        return 1
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        reason = skipped[0]["skip_reason"]
        message = f"{len(skipped)} not audited ({names}); the first said: {reason}"
        if audited == 0:
            return unaudited(message, strict)
        print(f"WARNING: {message}", file=sys.stderr)
    return 0


def unaudited(reason: str, strict: bool) -> int:
    print(
        f"WARNING: the dependency audit could not run: {reason}. No known vulnerability can be "
        "reported; run `bash tests/run.sh` where PyPI's JSON API answers, or set "
        "NUSERVE_AUDIT_STRICT=1 to fail here",
        file=sys.stderr,
    )
    return 1 if strict else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
