"""The CLI reference page is generated from the ``nuserve`` parser (docs/hooks/cli_reference.py)."""

from __future__ import annotations

import argparse
import importlib.util
from types import ModuleType

from nuserve.cli.main import monitor_parser, parser
from tests.docs.site import DOCS


def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "hooks" / "cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def option_strings(p: argparse.ArgumentParser) -> list[str]:
    return [o for a in p._actions for o in a.option_strings]


def test_every_subcommand_has_its_section() -> None:
    text = hook().cli_reference()
    names = list(hook().subcommands(parser()))
    assert {"serve", "invoke", "build", "deploy", "graph", "openapi", "monitor", "version"} <= set(names)
    for name in names:
        assert f"\n## nuserve {name}\n" in text, name


def test_every_flag_of_every_subcommand_is_listed_with_its_help() -> None:
    module = hook()
    text = module.cli_reference()
    for name, (sub, _) in module.subcommands(parser()).items():
        shown = monitor_parser() if name == "monitor" else sub
        section = text.split(f"\n## nuserve {name}\n", 1)[1].split("\n## nuserve ", 1)[0]
        for action in shown._actions:
            for option in action.option_strings:
                assert f"`{option}`" in section, (name, option)
            if action.help and action.help != argparse.SUPPRESS:
                assert " ".join(action.help.split()).replace("|", "\\|")[:40] in section, (name, action.help)
    assert "`--auth-token-file` `FILE`" in text and "`--max-in-flight` `N`" in text
    assert "`--stream` `STREAM`" in text  # nuserve monitor's own parser, not its stub


def test_a_new_flag_appears_without_editing_the_page() -> None:
    module = hook()
    root = parser()
    serve = module.subcommands(root)["serve"][0]
    serve.add_argument("--brand-new-flag", default="7", help="a flag added after the docs were written")
    text = module.cli_reference(root)
    assert "| `--brand-new-flag` `BRAND_NEW_FLAG` | `7` | a flag added after the docs were written |" in text
    assert "--brand-new-flag" not in module.cli_reference()


def test_the_page_holds_the_marker_the_hook_replaces() -> None:
    module = hook()
    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert module.MARKER in page
    rendered = module.on_page_markdown(page, page=None, config=None, files=None)
    assert module.MARKER not in rendered and "## nuserve serve" in rendered
