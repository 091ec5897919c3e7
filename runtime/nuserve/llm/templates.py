"""Prompt templates with ``{placeholders}`` (MLRun's prompt artifacts): a text, or a list
of chat messages whose contents hold the placeholders.

Only ``{name}`` is replaced (no attribute or index lookups, unlike ``str.format``); ``{{`` and
``}}`` write braces. A placeholder the request does not fill is a 400 naming it.
"""

from __future__ import annotations

import re
from typing import Any

from nuserve.errors import ConfigError
from nuserve.llm.engine import Prompt
from nuserve.llm.errors import bad_field

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(text: str, values: dict[str, Any], param: str) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise bad_field(
                f"{param}.{name}",
                f"the prompt template needs '{name}', which the request does not give "
                f"(given: {known})",
            )
        return str(values[name])

    return _PLACEHOLDER.sub(replace, text)


class PromptTemplate:
    """A template from the model's class args or spec: ``str`` or ``[{"role", "content"}]``."""

    def __init__(self, template: str | list[dict[str, str]]) -> None:
        if isinstance(template, list):
            if not all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in template):
                raise ConfigError("prompt_template messages need 'role' and 'content' each")
        elif not isinstance(template, str):
            raise ConfigError(f"prompt_template must be text or a list of messages ({template!r})")
        self.template = template

    def render(self, values: dict[str, Any], param: str = "inputs") -> Prompt:
        if isinstance(self.template, str):
            return Prompt(text=fill(self.template, values, param))
        return Prompt(
            messages=[
                {"role": m["role"], "content": fill(m["content"], values, param)}
                for m in self.template
            ]
        )
