"""Drive a deploy directory's handler.py the way Nuclio's Python wrapper does, in whatever
interpreter runs this file (the test runs it in a venv built from the directory alone).

Usage: python -I nuclio_driver.py CODE_DIR REQUESTS_JSON

As ``_nuclio_wrapper.py`` (Nuclio 1.14.1) does: import the handler module from the code
directory, build a ``nuclio_sdk.Context`` (logger, ``Platform``, worker id, trigger info), call
``init_context`` once, then for each request make the event the wrapper makes from the
processor's msgpack message (decoded strings, the body as bytes, a JSON body decoded by
nuclio-sdk when the content type says JSON) with ``nuclio_sdk.Event.deserialize``, and call
the handler. Prints one JSON line: where nuserve was imported from and every answer.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import time


def event_message(request: dict, index: int) -> dict:
    """The message the processor sends for an HTTP request, as msgpack decodes it."""
    body = base64.b64decode(request["body_b64"])
    return {
        "body": body,
        "content_type": request.get("content_type", "application/json"),
        "trigger": {"kind": "http", "name": "http"},
        "fields": {},
        "headers": request.get("headers", {}),
        "id": f"nuclio-event-{index}",
        "method": request.get("method", "POST"),
        "path": request["path"],
        "size": len(body),
        "timestamp": int(time.time()),
        "url": "",
        "shard_id": 0,
        "num_shards": 0,
        "type": "",
        "type_version": "",
        "version": "",
    }


def main() -> None:
    code_dir, requests_file = sys.argv[1], sys.argv[2]
    sys.path.insert(0, code_dir)  # Nuclio's PYTHONPATH holds /opt/nuclio
    import nuclio_sdk
    from nuclio_sdk.event import EventDeserializerKinds

    import handler
    import nuserve

    logger = nuclio_sdk.Logger(logging.INFO, "driver")
    logger.set_handler("default", sys.stderr, nuclio_sdk.logger.HumanReadableFormatter())
    platform = nuclio_sdk.Platform("local", namespace="nuclio")
    context = nuclio_sdk.Context(logger, platform, 0, nuclio_sdk.TriggerInfo("http", "http"))
    handler.init_context(context)
    answers = []
    with open(requests_file, encoding="utf-8") as f:
        requests = json.load(f)
    for index, request in enumerate(requests):
        event = nuclio_sdk.Event.deserialize(
            event_message(request, index), kind=EventDeserializerKinds.msgpack
        )
        response = handler.handler(context, event)
        body = response.body
        answers.append(
            {
                "status": response.status_code,
                "content_type": response.content_type,
                "body": body.decode() if isinstance(body, bytes) else body,
            }
        )
    print(json.dumps({"nuserve": nuserve.__file__, "version": nuserve.__version__, "answers": answers}))


if __name__ == "__main__":
    main()
