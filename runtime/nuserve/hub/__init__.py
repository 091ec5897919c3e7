"""Function templates (MLRun's Function Hub): ``hub://<name>[:<tag>]``.

A hub is a directory or URL holding ``index.yaml`` and, per function, a folder with its
function.yaml and code. nuserve ships one (``nuserve/hub/functions``); a user's hub
(``NUSERVE_HUB_URL``, or ``hub_url=``) is searched before it. ``nuserve.import_function``
(``nuserve.function.imports``) builds the function from what ``fetch`` returns.
"""

from nuserve.hub.catalog import (
    BUILTIN_HUB,
    HUB_ENV,
    HubItem,
    fetch,
    find,
    hubs,
    items,
    parse_hub_url,
)

__all__ = ["BUILTIN_HUB", "HUB_ENV", "HubItem", "fetch", "find", "hubs", "items", "parse_hub_url"]
