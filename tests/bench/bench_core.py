"""make bench: what search and register cost, against moto, in-process.

Prints, for register and search: AWS calls per operation by service (counted with
botocore event hooks on the real clients), KMS calls per warm search, p50/p99
latency through the real handlers (events shaped as API Gateway sends them), and
the cold import time of each function module (a fresh interpreter per module).
The last line is one JSON object with every figure.

Latency here is moto in one process: it measures our code plus moto's, not
DynamoDB's network round trips. The call counts are what carries over to AWS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from signpost.dal import clients  # noqa: E402

from infrastructure.local.aws import LocalAws  # noqa: E402
from tests.support.lambda_events import caller, make_event  # noqa: E402
from tests.support.lambda_events import invoke as invoke_handler  # noqa: E402

POPULATION = int(os.environ.get("BENCH_POPULATION", "200"))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "200"))
FUNCTIONS = ("authorizer", "records", "search", "inbox")

GIVEN = [
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "Jack",
    "Ava",
    "George",
    "Mia",
    "Noah",
    "Ivy",
    "Leo",
    "Freya",
    "Oscar",
    "Lily",
    "Charlie",
    "Grace",
    "Muhammad",
    "Sophia",
    "Alfie",
    "Evie",
    "Arthur",
    "Poppy",
]
FAMILY = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Khan",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "O'Connor",
    "Nowak",
    "Okafor",
    "Ahmed",
    "Hughes",
    "Clarke",
]


def invoke(function: str, event: dict[str, Any]) -> Any:
    """The real handler, with its log and EMF metric lines kept off the benchmark's output."""
    with contextlib.redirect_stdout(io.StringIO()):
        return invoke_handler(function, event)


class CallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def by_service(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for name, count in self.calls.items():
            out[name.split(":")[0]] += count
        return dict(out)

    def reset(self) -> None:
        self.calls.clear()


def _identity(rng: random.Random, n: int) -> dict[str, Any]:
    dob = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 17))
    return {
        "given_names": rng.choice(GIVEN),
        "family_name": f"{rng.choice(FAMILY)}-{n}" if n % 7 == 0 else rng.choice(FAMILY),
        "date_of_birth": dob.isoformat(),
        "sex": rng.choice(["female", "male"]),
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def cold_imports() -> dict[str, float]:
    """Milliseconds to import each function module in a fresh interpreter (what a cold start pays)."""
    out = {}
    for name in FUNCTIONS:
        code = (
            "import time;t=time.perf_counter();"
            f"import functions.{name}.app;"
            "print((time.perf_counter()-t)*1000)"
        )
        runs = []
        for _ in range(3):
            res = subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
            )
            runs.append(float(res.stdout.strip().splitlines()[-1]))
        out[name] = round(min(runs), 1)
    return out


def main() -> None:
    rng = random.Random(20261127)
    camden = caller("E09000007", "la_practitioner", "bench-camden")
    royal_free = caller("RAL", "health", "bench-rf")
    review_by = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    counter = CallCounter()
    with LocalAws():
        for client in (clients.dynamodb(), clients.kms()):
            client.meta.events.register("before-call.*.*", counter)

        print(f"registering {POPULATION} children…", file=sys.stderr)
        register_ms: list[float] = []
        register_calls: list[dict[str, int]] = []
        enrolled = []
        for n in range(POPULATION):
            identity = _identity(rng, n)
            body = {**identity, "categories": ["child_in_need"], "review_by": review_by}
            event = make_event("POST", "/v1/children", body, caller=camden)
            counter.reset()
            t = time.perf_counter()
            resp = invoke("records", event)
            register_ms.append((time.perf_counter() - t) * 1000)
            if resp.status == 201:
                enrolled.append(identity)
                register_calls.append(counter.by_service())
            if n and n % 100 == 0:
                print(f"  {n}/{POPULATION}", file=sys.stderr)

        print(f"searching {SEARCHES} times…", file=sys.stderr)
        search_ms: list[float] = []
        search_calls: list[dict[str, int]] = []
        outcomes: Counter[str] = Counter()
        # One search first: a warm function has derived its blind-index key and unwrapped the data key.
        invoke(
            "search",
            make_event(
                "POST", "/v1/searches", {**enrolled[0], "reason": "new_to_service"}, caller=royal_free
            ),
        )
        for i in range(SEARCHES):
            identity = enrolled[i % len(enrolled)] if i % 4 else _identity(rng, 10_000 + i)
            event = make_event(
                "POST", "/v1/searches", {**identity, "reason": "new_to_service"}, caller=royal_free
            )
            counter.reset()
            t = time.perf_counter()
            resp = invoke("search", event)
            search_ms.append((time.perf_counter() - t) * 1000)
            outcomes[resp.json()["outcome"]] += 1
            search_calls.append(counter.by_service())

    def mean_calls(rows: list[dict[str, int]]) -> dict[str, float]:
        services = sorted({s for r in rows for s in r})
        return {s: round(statistics.fmean(r.get(s, 0) for r in rows), 2) for s in services}

    figures = {
        "population": len(enrolled),
        "searches": SEARCHES,
        "search_outcomes": dict(outcomes),
        "register_aws_calls_per_op": mean_calls(register_calls),
        "search_aws_calls_per_op": mean_calls(search_calls),
        "kms_calls_per_warm_search": round(statistics.fmean(r.get("kms", 0) for r in search_calls), 3),
        "register_ms": {"p50": _pct(register_ms, 0.5), "p99": _pct(register_ms, 0.99)},
        "search_ms": {"p50": _pct(search_ms, 0.5), "p99": _pct(search_ms, 0.99)},
        "cold_import_ms": cold_imports(),
    }
    print(
        "register: AWS calls/op",
        figures["register_aws_calls_per_op"],
        "p50/p99 ms",
        figures["register_ms"]["p50"],
        figures["register_ms"]["p99"],
    )
    print(
        "search:   AWS calls/op",
        figures["search_aws_calls_per_op"],
        "p50/p99 ms",
        figures["search_ms"]["p50"],
        figures["search_ms"]["p99"],
    )
    print("KMS calls per warm search:", figures["kms_calls_per_warm_search"])
    print("cold import ms:", figures["cold_import_ms"])
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
