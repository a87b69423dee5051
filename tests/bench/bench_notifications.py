"""Notification latency on the local stack: from a write to the notification in the inbox.

Starts the local stack (gateway on a free port, moto, the stream feed of
infrastructure/local/stream.py), registers a Camden child, then for ITERATIONS rounds
the Royal Free searches for the child over HTTP (a match: `record_viewed` to Camden)
and Camden reads its inbox once, straight after the search's response.

Two figures, p50 and p99 in milliseconds:
- write_to_inbox: from the search's TransactWriteItems returning (the outbox intent
  committed) to the notifier having written the inbox item and announced it;
- request_to_visible: from sending the search to Camden's GET /v1/notifications
  returning the new item (HTTP both ways, authorizer, handlers); the search's own
  response time is reported beside it (search_response).

Bounded: a fixed number of rounds, each checked; a round whose notification is not
visible on the first read counts as missed. The last line is one JSON object.
Locally everything is one process: this is our code plus moto, not AWS's stream
delivery (which adds its own polling latency, typically well under a second).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import requests  # noqa: E402

from infrastructure.local.aws import TEMPLATE_PATH, LocalAws  # noqa: E402
from infrastructure.local.gateway import Gateway  # noqa: E402
from infrastructure.local.routes import load_routes  # noqa: E402
from infrastructure.local.stream import attach  # noqa: E402

ITERATIONS = int(os.environ.get("BENCH_NOTIFICATIONS", "200"))
CHILD = {"given_names": "Priya", "family_name": "Lindqvist", "date_of_birth": "2012-10-21"}


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


def main() -> int:
    with LocalAws(port=0) as aws:
        gateway = Gateway(aws, load_routes(TEMPLATE_PATH), port=0, log_stream=_Quiet())
        stream = attach(gateway)
        gateway.start_in_background()
        http = requests.Session()
        try:

            def token(org: str, role: str, sub: str) -> str:
                body = {"org": org, "role": role, "sub": sub}
                return str(
                    http.post(f"{gateway.url}/dev/token", json=body, timeout=60).json()["access_token"]
                )

            camden = {"Authorization": f"Bearer {token('E09000007', 'la_practitioner', 'camden-sw-1')}"}
            health = {"Authorization": f"Bearer {token('RAL', 'health', 'rf-nurse-1')}"}
            review_by = (dt.date.today() + dt.timedelta(days=90)).isoformat()
            registered = http.post(
                f"{gateway.url}/v1/children",
                json={**CHILD, "categories": ["child_in_need"], "review_by": review_by},
                headers=camden,
                timeout=60,
            )
            registered.raise_for_status()
            visible_ms: list[float] = []
            search_ms: list[float] = []
            missed = 0
            stream.stats.latencies_ms.clear()
            for _ in range(ITERATIONS):
                started = time.perf_counter()
                found = http.post(
                    f"{gateway.url}/v1/searches",
                    json={**CHILD, "reason": "referral"},
                    headers=health,
                    timeout=60,
                )
                search_ms.append((time.perf_counter() - started) * 1000)
                search_id = found.json()["search_id"]
                # Notifications created in the same second tie on time: look at the first page.
                newest = http.get(
                    f"{gateway.url}/v1/notifications", params={"limit": 10}, headers=camden, timeout=60
                ).json()["items"]
                if any(item.get("search_id") == search_id for item in newest):
                    visible_ms.append((time.perf_counter() - started) * 1000)
                else:
                    missed += 1
            write_ms = list(stream.stats.latencies_ms)
        finally:
            http.close()
            gateway.stop()
            stream.uninstall()
    result = {
        "bench": "notifications",
        "iterations": ITERATIONS,
        "delivered": len(write_ms),
        "missed": missed,
        "set_aside": len(stream.stats.set_aside),
        "write_to_inbox_ms": {"p50": percentile(write_ms, 50), "p99": percentile(write_ms, 99)},
        "request_to_visible_ms": {"p50": percentile(visible_ms, 50), "p99": percentile(visible_ms, 99)},
        "search_response_ms": {"p50": percentile(search_ms, 50), "p99": percentile(search_ms, 99)},
        "write_to_inbox_mean_ms": round(statistics.fmean(write_ms), 2) if write_ms else None,
    }
    print(json.dumps(result))
    return 0 if missed == 0 and len(write_ms) == ITERATIONS else 1


if __name__ == "__main__":
    sys.exit(main())
