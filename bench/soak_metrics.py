"""What the server says about itself: ``GET /metrics`` read into a few numbers.

Only the series the soak needs are kept: tracking records by state (``tracked``, ``sent``,
``dropped``), ``queued``, send retries and errors, the workers' pids, and requests and
errors summed over every (model, op). The workers publish their counters at most once a
second, so a scrape may be up to a second behind.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass

LINE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
LABEL = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Scrape:
    tracked: int
    sent: int
    dropped: int
    queued: int
    retried: int
    tracking_errors: int
    requests: int
    request_errors: int
    workers: frozenset[int]

    @property
    def drained(self) -> bool:
        """Nothing queued, and every record made is either sent or counted as dropped."""
        return self.queued == 0 and self.sent + self.dropped >= self.tracked


def parse(text: str) -> Scrape:
    """The soak's numbers from Prometheus text (missing series read as 0)."""
    values: dict[str, float] = {}
    workers = set()
    for line in text.splitlines():
        found = LINE.match(line)
        if found is None:
            continue
        name, value = found["name"], float(found["value"])
        labels = dict(LABEL.findall(found["labels"] or ""))
        if name == "nuserve_tracking_records_total":
            values[labels.get("state", "")] = value
        elif name == "nuserve_worker_info":
            workers.add(int(labels["pid"]))
        elif name in ("nuserve_requests_total", "nuserve_request_errors_total"):
            values[name] = values.get(name, 0.0) + value
        else:
            values[name] = value
    return Scrape(
        tracked=int(values.get("tracked", 0)),
        sent=int(values.get("sent", 0)),
        dropped=int(values.get("dropped", 0)),
        queued=int(values.get("nuserve_tracking_queued", 0)),
        retried=int(values.get("nuserve_tracking_send_retries_total", 0)),
        tracking_errors=int(values.get("nuserve_tracking_errors_total", 0)),
        requests=int(values.get("nuserve_requests_total", 0)),
        request_errors=int(values.get("nuserve_request_errors_total", 0)),
        workers=frozenset(workers),
    )


def scrape(host: str, port: int, timeout: float = 5.0) -> Scrape:
    """``GET /metrics`` on a new connection; raises ``OSError`` or ``HTTPException``."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        body = response.read().decode()
        if response.status != 200:
            raise http.client.HTTPException(f"/metrics answered {response.status}: {body[:200]}")
        return parse(body)
    finally:
        conn.close()
