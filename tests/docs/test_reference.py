"""The site has a reference entry for every public name and the pages the issue asks for."""

from __future__ import annotations

import re

import yaml

import nuserve
from tests.docs.site import DOCS, ROOT, pages

API = DOCS / "reference" / "api.md"
DIRECTIVE = re.compile(r"^::: nuserve\.(\w+)$", re.M)


def nav_files(entries: list) -> list[str]:
    found: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += nav_files(value) if isinstance(value, list) else [value]
    return found


def mkdocs_config() -> dict:
    # mkdocs.yml uses a !!python/name tag (the mermaid fence); only the nav is read here
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!!python/name:", "")
    return yaml.safe_load(text)


def test_every_public_name_has_an_api_entry() -> None:
    documented = DIRECTIVE.findall(API.read_text(encoding="utf-8"))
    public = set(nuserve.__all__) - {"__version__"}
    assert set(documented) == public, sorted(set(documented) ^ public)
    assert len(documented) == len(set(documented)), "a name documented twice"


def test_the_pages_are_in_the_nav_and_the_nav_has_no_stray_file() -> None:
    listed = nav_files(mkdocs_config()["nav"])
    existing = {p.relative_to(DOCS).as_posix() for p in pages()}
    assert set(listed) == existing, sorted(set(listed) ^ existing)
    for required in (
        "getting-started.md", "models.md", "routers.md", "flow/README.md", "protocols/index.md",
        "protocols/oip-binary-grpc.md", "protocols/openai.md", "nuclio.md", "local-server.md",
        "reference/cli.md", "reference/function-yaml.md", "reference/api.md", "tracking.md",
        "monitoring/README.md", "performance.md", "security.md", "mlrun-migration.md",
    ):  # fmt: skip
        assert required in listed, required


def test_the_monitoring_page_shows_the_screenshot_the_browser_test_takes() -> None:
    from tests.docs.site import DASHBOARD_SCREENSHOT

    page = (DOCS / "monitoring" / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert [(DOCS / "monitoring" / i).resolve() for i in images] == [DASHBOARD_SCREENSHOT]
    assert DASHBOARD_SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_flow_page_shows_its_picture() -> None:
    page = (DOCS / "flow" / "README.md").read_text(encoding="utf-8")
    assert "![the example flow](example.svg)" in page and (DOCS / "flow" / "example.svg").is_file()
