"""``mlrun.serving.utils``: the header names a remote step sends."""

from nuserve.graph.remote_step import EVENT_ID_KEY as event_id_key
from nuserve.graph.remote_step import EVENT_PATH_KEY as event_path_key

__all__ = ["event_id_key", "event_path_key"]
