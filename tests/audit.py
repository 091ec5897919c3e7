"""Dependency audit of the installed environment (``tests/run.sh`` runs it before pytest).

``pip-audit`` asks PyPI's vulnerability data about each installed distribution (nuserve
itself, installed editable, is skipped). A known vulnerability fails the run: raise the
lower bound of that dependency in ``pyproject.toml``. A dependency the service could not
answer for is listed, not failed: some networks reach PyPI's package index but not its
per-release JSON. For those, the per-project JSON (which such networks do answer) is read:
its ``vulnerabilities`` are those of the project's latest release, so a dependency installed
at its latest release is audited that way; one installed at an older release is listed as
not audited (and failed if that release was yanked). When nothing at all could be audited
the run says so loudly, and ``NUSERVE_AUDIT_STRICT=1`` (or ``--strict``) turns that into a
failure.

Usage: python tests/audit.py [--strict]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

TIMEOUT_S = 300
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
ACCEPTED = {
    "GHSA-w8v5-vhqr-4h9v": (
        "diskcache (pickled cache files; no fixed release): llama-cpp-python (the llm extra) "
        "imports it, nuserve never opens a LlamaDiskCache"
    ),
    "PYSEC-2026-2447": "the same diskcache advisory",
}
"""Advisories accepted, each with why it does not reach nuserve; printed on every run."""


def main(argv: list[str]) -> int:
    strict = "--strict" in argv or os.environ.get("NUSERVE_AUDIT_STRICT") == "1"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp, "audit.json")
        command = [
            str(Path(sys.executable).with_name("pip-audit")),
            *("--local", "--skip-editable", "--vulnerability-service", "pypi"),
            *("--progress-spinner", "off", "--format", "json", "--output", str(report)),
            *(arg for vuln in ACCEPTED for arg in ("--ignore-vuln", vuln)),
        ]
        for vuln, why in ACCEPTED.items():
            print(f"accepted {vuln}: {why}")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return unaudited(f"pip-audit did not finish in {TIMEOUT_S} s", strict)
        if not report.is_file():
            return unaudited(f"pip-audit wrote no report: {done.stderr.strip()[-500:]}", strict)
        dependencies = [
            d for d in json.loads(report.read_text())["dependencies"] if d["name"] != "nuserve"
        ]
    with ThreadPoolExecutor(8) as pool:
        dependencies = list(pool.map(audit_from_project_json, dependencies))
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


def audit_from_project_json(dep: dict[str, Any]) -> dict[str, Any]:
    """For a dependency pip-audit skipped: audit it from the per-project JSON if it can be."""
    if "skip_reason" not in dep:
        return dep
    try:
        dep = {**dep, "version": dep.get("version") or metadata.version(dep["name"])}
    except metadata.PackageNotFoundError:
        return dep
    try:
        with urllib.request.urlopen(PROJECT_JSON.format(name=dep["name"]), timeout=30) as answer:
            project = json.load(answer)
    except (OSError, ValueError) as exc:
        return {**dep, "skip_reason": f"per-project JSON unreadable: {exc}"}
    files = project.get("releases", {}).get(dep["version"]) or []
    if files and all(f.get("yanked") for f in files):
        reason = files[0].get("yanked_reason") or "no reason given"
        yanked = {"id": f"YANKED ({reason})", "fix_versions": [project["info"]["version"]]}
        return {"name": dep["name"], "version": dep["version"], "vulns": [yanked]}
    if project["info"]["version"] != dep["version"]:
        latest = project["info"]["version"]
        return {**dep, "skip_reason": f"not the latest release ({latest}): no data for it here"}
    vulns = [
        {"id": v.get("id", "?"), "fix_versions": v.get("fixed_in") or []}
        for v in project.get("vulnerabilities") or []
        if not v.get("withdrawn") and v.get("id") not in ACCEPTED
    ]
    return {"name": dep["name"], "version": dep["version"], "vulns": vulns}


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
