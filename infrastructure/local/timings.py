"""Where the local stack's time goes, per route: serving a request vs the AWS SDK calls in it.

`python -m infrastructure.local` installs this when SIGNPOST_LOCAL_TIMINGS names a file, and
writes the figures there as JSON when it stops (`make load` reads them). Per route:

- serve: time spent running functions for the request (the authorizer, the handler, and the
  notifier fed by the stream), measured once the gateway's invocation lock is held, so time
  queued behind other requests is not counted;
- sdk: time inside botocore calls made meanwhile (serialisation, moto, parsing): what DynamoDB,
  KMS and SNS would do in AWS. serve / sdk is how much of a request is our own code.

It also checks, at the end, that every outbox intent in the records table has its inbox item
(a Scan: this is the local harness's own bookkeeping, never product code).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

from infrastructure.local.gateway import Gateway
from infrastructure.local.routes import NoRoute


class StackTimings:
    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.routes: dict[str, dict[str, float]] = defaultdict(
            lambda: {"requests": 0, "serve_s": 0.0, "sdk_s": 0.0, "sdk_calls": 0}
        )
        self._undo: list[Callable[[], None]] = []

    # installation ---------------------------------------------------------------------
    def install(self, gateway: Gateway) -> StackTimings:
        handle, invoke = gateway.handle, gateway.invoke
        client_class: Any = BaseClient  # its _make_api_call is not in the type stubs
        call = client_class._make_api_call
        timings = self

        def timed_handle(request: Any) -> Any:
            try:
                route = gateway.routes.resolve(request.method, request.path)[0]
                label = f"{route.method} {route.resource}"
            except NoRoute:
                label = "other"
            state = timings._state()
            state.update(serve=0.0, sdk=0.0, calls=0)
            try:
                return handle(request)
            finally:
                timings._record(label, state)

        def timed_invoke(function: Any, event: dict[str, Any]) -> Any:
            state = timings._state()
            with gateway._lock:  # re-entrant: `invoke` takes it again at once, queueing excluded
                outermost = state.get("depth", 0) == 0
                state["depth"] = state.get("depth", 0) + 1
                started = time.perf_counter()
                try:
                    return invoke(function, event)
                finally:
                    state["depth"] -= 1
                    if outermost:
                        state["serve"] = state.get("serve", 0.0) + time.perf_counter() - started

        def timed_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            state = timings._state()
            if state.get("depth", 0) == 0 or state.get("in_sdk"):
                return call(client, operation, params)
            state["in_sdk"] = True
            started = time.perf_counter()
            try:
                return call(client, operation, params)
            finally:
                state["in_sdk"] = False
                state["sdk"] = state.get("sdk", 0.0) + time.perf_counter() - started
                state["calls"] = state.get("calls", 0) + 1

        gateway.handle = timed_handle  # type: ignore[method-assign]
        gateway.invoke = timed_invoke  # type: ignore[method-assign]
        client_class._make_api_call = timed_call

        def undo() -> None:
            gateway.handle = handle  # type: ignore[method-assign]
            gateway.invoke = invoke  # type: ignore[method-assign]
            client_class._make_api_call = call

        self._undo.append(undo)
        return self

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    # figures --------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] | None = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = {}
        return state

    def _record(self, label: str, state: dict[str, Any]) -> None:
        with self._lock:
            row = self.routes[label]
            row["requests"] += 1
            row["serve_s"] += state.get("serve", 0.0)
            row["sdk_s"] += state.get("sdk", 0.0)
            row["sdk_calls"] += state.get("calls", 0)

    def summary(self) -> dict[str, dict[str, float | None]]:
        out: dict[str, dict[str, float | None]] = {}
        with self._lock:
            for label, row in sorted(self.routes.items()):
                n = row["requests"] or 1
                out[label] = {
                    "requests": row["requests"],
                    "serve_ms": round(row["serve_s"] * 1000 / n, 2),
                    "sdk_ms": round(row["sdk_s"] * 1000 / n, 2),
                    "sdk_calls": round(row["sdk_calls"] / n, 2),
                    "serve_to_sdk": round(row["serve_s"] / row["sdk_s"], 2) if row["sdk_s"] else None,
                }
        return out


def undelivered_intents(client: Any, records_table: str) -> dict[str, int]:
    """Outbox intents with no inbox item yet (inbox item ids end with the intent's id)."""
    intents: set[str] = set()
    delivered: set[str] = set()
    kwargs: dict[str, Any] = {"TableName": records_table, "ProjectionExpression": "pk, sk, id"}
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            pk = item["pk"]["S"]
            if pk.startswith("OUTBOX#") and item["sk"]["S"] == "INTENT":
                intents.add(pk.removeprefix("OUTBOX#"))
            elif pk.startswith("INBOX#") and "id" in item:
                delivered.add(item["id"]["S"].split("-", 1)[-1])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {
        "intents": len(intents),
        "in_an_inbox": len(intents & delivered),
        "lost": len(intents - delivered),
    }


def write(path: Path, timings: StackTimings, extra: dict[str, Any]) -> None:
    path.write_text(json.dumps({"routes": timings.summary(), **extra}, sort_keys=True), encoding="utf-8")
