"""The hubs' indexes, and one function's files fetched to a local directory.

``index.yaml``::

    functions:
      sklearn-classifier:
        description: "..."
        version: 1.0.0        # the tag it answers besides "latest"
        path: sklearn-classifier   # its folder (default: the name)
        files: [function.yaml, sklearn_classifier.py]
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from nuserve.errors import ConfigError
from nuserve.hub.source import HubSource, safe_relative

HUB_ENV = "NUSERVE_HUB_URL"
"""A user's hub (directory or URL), searched before the one nuserve ships."""
CACHE_ENV = "NUSERVE_HUB_CACHE"
"""Where functions from remote hubs are copied (default ``~/.cache/nuserve/hub``)."""
BUILTIN_HUB = Path(__file__).parent / "functions"
INDEX = PurePosixPath("index.yaml")
LATEST = "latest"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class HubItem:
    """One function of a hub's index."""

    name: str
    description: str
    version: str
    hub: str
    path: PurePosixPath
    files: tuple[PurePosixPath, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def tags(self) -> list[str]:
        return [LATEST, self.version] if self.version else [LATEST]


def parse_hub_url(url: str) -> tuple[str, str]:
    """``hub://name[:tag]`` → ``(name, tag)``; the tag defaults to ``latest``."""
    rest = url.removeprefix("hub://").strip("/")
    name, _, tag = rest.partition(":")
    if not url.startswith("hub://") or not _NAME.match(name):
        raise ConfigError(f"{url!r} is not a hub URL: write hub://<name> or hub://<name>:<tag>")
    return name, tag or LATEST


def hubs(hub_url: str | Path | None = None) -> list[HubSource]:
    """The hubs searched, in order: ``hub_url`` (else ``NUSERVE_HUB_URL``), then nuserve's."""
    user = hub_url if hub_url is not None else os.environ.get(HUB_ENV) or None
    sources = [HubSource(user)] if user is not None else []
    return [*sources, HubSource(BUILTIN_HUB)]


def items(hub_url: str | Path | None = None) -> dict[str, HubItem]:
    """Every function of the hubs by name (a user's hub hides nuserve's of the same name)."""
    found: dict[str, HubItem] = {}
    for source in hubs(hub_url):
        for item in _index(source):
            found.setdefault(item.name, item)
    return dict(sorted(found.items()))


def find(name: str, tag: str = LATEST, hub_url: str | Path | None = None) -> HubItem:
    """The function ``name`` at ``tag``; unknown names and tags list the known ones."""
    known = items(hub_url)
    item = known.get(name)
    if item is None:
        where = ", ".join(s.location for s in hubs(hub_url))
        raise ConfigError(
            f"hub function {name!r} not found in {where}; available: {', '.join(known) or 'none'}"
        )
    if tag not in item.tags:
        raise ConfigError(
            f"hub function {name!r} has no tag {tag!r}; its tags: {', '.join(item.tags)}"
        )
    return item


def fetch(name: str, tag: str = LATEST, hub_url: str | Path | None = None) -> Path:
    """A local directory holding the function's files (its function.yaml among them): the
    hub's own folder when the hub is local, else a copy in the cache."""
    item = find(name, tag, hub_url)
    source = next(s for s in hubs(hub_url) if s.location == item.hub)
    if source.root is not None:
        folder = source.root / item.path
        for file in item.files:
            if not (folder / file).is_file():
                raise ConfigError(f"hub function {name!r}: file {str(folder / file)!r} not found")
        return folder
    digest = hashlib.sha256(f"{source.location}|{item.version}".encode()).hexdigest()[:16]
    folder = _cache_dir() / digest / item.name
    for file in item.files:
        target = folder / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read(item.path / file))
    return folder


def _cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nuserve" / "hub"


def _index(source: HubSource) -> list[HubItem]:
    import yaml  # noqa: PLC0415 - keeps `import nuserve` light

    where = f"hub index {source.location}/{INDEX}"
    try:
        doc = yaml.safe_load(source.read(INDEX))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from None
    functions = doc.get("functions") if isinstance(doc, dict) else None
    if not isinstance(functions, dict):
        raise ConfigError(f"{where} has no 'functions' map")
    found = []
    for name, entry in functions.items():
        if not isinstance(name, str) or not _NAME.match(name) or not isinstance(entry, dict):
            raise ConfigError(f"{where}: entry {name!r} needs a lowercase name and a map")
        files = entry.get("files") or ["function.yaml"]
        if not isinstance(files, list) or "function.yaml" not in files:
            raise ConfigError(f"{where}: {name!r} files must be a list with function.yaml")
        found.append(
            HubItem(
                name=name,
                description=str(entry.get("description", "")),
                version=str(entry.get("version", "")),
                hub=source.location,
                path=safe_relative(str(entry.get("path", name)), f"{where}: {name!r} path"),
                files=tuple(safe_relative(str(f), f"{where}: {name!r} file") for f in files),
                extra={k: v for k, v in entry.items() if k not in {"files", "path"}},
            )
        )
    return found
