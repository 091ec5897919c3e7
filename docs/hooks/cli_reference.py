"""A mkdocs hook: the CLI reference, generated from the ``nuserve`` command's own parser.

A page holding the line ``<!-- nuserve-cli-reference -->`` gets, in its place, one section per
subcommand (``nuserve serve``, ``nuserve monitor``, ...): its help line, its usage, and a table
of its arguments (flags, default, help) read from the argparse parser that ``nuserve`` itself
runs, so a flag added to the CLI appears on the site at the next build without an edit here.
``tests/docs/test_cli_reference.py`` checks it.
"""

from __future__ import annotations

import argparse
from typing import Any

MARKER = "<!-- nuserve-cli-reference -->"


def on_page_markdown(markdown: str, **_: Any) -> str:
    """mkdocs event: replace the marker with the generated reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_reference())


def cli_reference(
    root: argparse.ArgumentParser | None = None,
    monitor: argparse.ArgumentParser | None = None,
) -> str:
    """Markdown for every subcommand of ``root`` (default: nuserve's parser); ``monitor``'s
    own parser stands in for the ``monitor`` stub, which parses its arguments itself."""
    from nuserve.cli.main import monitor_parser, parser  # noqa: PLC0415

    root = root or parser()
    monitor = monitor or monitor_parser()
    parts = [
        "## nuserve",
        "",
        _usage(root),
        "",
        _table(root),
    ]
    for name, (sub, help_text) in subcommands(root).items():
        shown = monitor if name == "monitor" else sub
        sentence = _escape(help_text)
        sentence = sentence[:1].upper() + sentence[1:] + "."
        parts += ["", f"## nuserve {name}", "", sentence, "", _usage(shown)]
        parts += ["", _table(shown)]
    return "\n".join(parts) + "\n"


def subcommands(root: argparse.ArgumentParser) -> dict[str, tuple[argparse.ArgumentParser, str]]:
    """Subcommand name → (its parser, its one-line help), in the order ``--help`` lists them."""
    found: dict[str, tuple[argparse.ArgumentParser, str]] = {}
    for action in root._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                found[name] = (sub, helps.get(name, ""))
    return found


def _usage(parser: argparse.ArgumentParser) -> str:
    usage = " ".join(parser.format_usage().removeprefix("usage:").split())
    return f"```text\n{usage}\n```"


def _table(parser: argparse.ArgumentParser) -> str:
    rows = ["| argument | default | what |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        if action.option_strings:
            names = ", ".join(f"`{o}`" for o in action.option_strings)
            if action.nargs != 0:
                names += f" `{action.metavar or action.dest.upper()}`"
        else:
            names = f"`{action.metavar or action.dest}`"
        rows.append(f"| {names} | {_default(action)} | {_escape(action.help or '')} |")
    return "\n".join(rows)


def _default(action: argparse.Action) -> str:
    if action.option_strings and action.nargs == 0:
        return ""  # a switch: --help, --version, store_true
    if action.default in (None, argparse.SUPPRESS, "", []):
        return ""
    return f"`{action.default}`"


def _escape(text: str) -> str:
    """Table-cell safe: no pipes, no line breaks, argparse's %% unescaped."""
    return " ".join(text.replace("%%", "%").replace("|", "\\|").split())
