"""Every endpoint of template.yaml, called through its real handler on moto, with what it asks
of AWS counted per call (aws_usage.Usage): the scenarios of `make bench`.

Each route has a scenario: a setup (not counted: e.g. a child to close, a transfer to
accept) and the measured request, repeated. The stream of the records table feeds the
notifier after every request, as in AWS; what the notifier does is counted per intent it
delivers. The authorizer (per token API Gateway has not cached) and the clock (per run)
are measured too. A route of the template without a scenario is reported as not measured.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signpost.dal import clients
from signpost.observability import logger

from infrastructure.local.aws import LocalAws
from infrastructure.local.queue import LocalQueue
from infrastructure.local.stream import AUDIT_SEALER, LocalStream
from tests.bench.aws_usage import Usage, import_settings, template_indexes
from tests.support.imports import fake_rows, to_csv
from tests.support.lambda_events import (
    caller,
    invoke,
    make_authorizer_event,
    make_event,
    route_table,
)

ROOT = Path(__file__).resolve().parents[2]
CAMDEN = caller("E09000007", "la_practitioner", "bench-camden")
CAMDEN_MANAGER = caller("E09000007", "la_manager", "bench-camden-mgr")
HACKNEY = caller("E09000012", "la_practitioner", "bench-hackney")
HACKNEY_MANAGER = caller("E09000012", "la_manager", "bench-hackney-mgr")
ROYAL_FREE = caller("RAL", "health", "bench-rf")
ADMIN = caller("NATIONAL", "admin", "bench-admin")
GIVEN = ["Oliver", "Amelia", "Harry", "Isla", "Jack", "Ava", "George", "Mia", "Noah", "Ivy", "Leo", "Freya"]
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Khan", "Okafor", "Nowak"]


def nhs_number(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)


@contextlib.contextmanager
def captured_logs(out: io.StringIO) -> Iterator[None]:
    """stdout (EMF metrics) and the Powertools logger's stream (bound when it was made)."""
    handler = logger.registered_handler
    previous = handler.setStream(out) if isinstance(handler, logging.StreamHandler) else None
    try:
        with contextlib.redirect_stdout(out):
            yield
    finally:
        if previous is not None and isinstance(handler, logging.StreamHandler):
            handler.setStream(previous)


@dataclass
class Measured:
    """One endpoint: per-request means of calls, request units, timings and log bytes."""

    requests: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    ms: list[float] = field(default_factory=list)
    sdk_ms: float = 0.0
    log_bytes: int = 0

    def add(self, calls: Counter[str], units: Counter[str], ms: float, sdk_ms: float, log_bytes: int) -> None:
        self.requests += 1
        self.calls.update(calls)
        self.units.update(units)
        self.ms.append(ms)
        self.sdk_ms += sdk_ms
        self.log_bytes += log_bytes

    def summary(self) -> dict[str, Any]:
        n = self.requests or 1
        by_service: Counter[str] = Counter()
        for name, count in self.calls.items():
            by_service[name.split(":")[0]] += count
        ordered = sorted(self.ms) or [0.0]
        return {
            "requests": self.requests,
            "calls_by_service": {k: round(v / n, 2) for k, v in sorted(by_service.items())},
            "calls": {k: round(v / n, 2) for k, v in sorted(self.calls.items())},
            "dynamodb_units": {k: round(v / n, 3) for k, v in sorted(self.units.items()) if ":" not in k},
            "items_written": {k: round(v / n, 2) for k, v in sorted(self.units.items()) if ":" in k},
            "ms_p50": round(ordered[len(ordered) // 2], 2),
            "ms_p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
            "own_ms": round(max(0.0, statistics.fmean(self.ms or [0.0]) - self.sdk_ms / n), 2),
            "log_bytes": round(self.log_bytes / n),
        }


class Endpoints:
    def __init__(self, aws: LocalAws, seed: int = 20261127) -> None:
        self.aws = aws
        self.rng = random.Random(seed)
        self.stream = LocalStream(aws).install()  # records -> notifier; resets clients: hooks after it
        self.audit_stream = LocalStream(aws, function=AUDIT_SEALER).install()  # audit -> sealer
        indexes = template_indexes(aws.tables)
        logical = {name: logical_id for logical_id, name in aws.tables.items()}
        measured = (clients.dynamodb(), clients.kms(), clients.sns(), clients.s3(), clients.sqs())
        self.usage = Usage(measured, indexes, logical)
        self._sdk_started: dict[int, float] = {}
        self.sdk_s = 0.0
        for client in measured:
            client.meta.events.register("provide-client-params.*.*", self._sdk_start)
            client.meta.events.register("after-call.*.*", self._sdk_end)
        self.results: dict[str, Measured] = defaultdict(Measured)
        self.extra: dict[str, dict[str, Any]] = defaultdict(dict)  # figures a label adds to its summary
        self.intents = 0
        self.notifier = Measured()
        self.sealer = Measured()
        self.sealed = 0
        self.seal_batches = 0
        self.review_by = (dt.date.today() + dt.timedelta(days=200)).isoformat()
        self.children: list[tuple[str, dict[str, Any]]] = []  # Camden's (child_id, identity)
        self.n = 0

    # timing of SDK calls (botocore + moto): subtracted to estimate our own code's time
    def _sdk_start(self, context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def _sdk_end(self, context: dict[str, Any], **_: Any) -> None:
        if "bench_started" in context:
            self.sdk_s += time.perf_counter() - context["bench_started"]

    # calling ------------------------------------------------------------------------------
    def _invoke(self, function: str, event: dict[str, Any]) -> tuple[Any, int]:
        """Invoke; the bytes it logged (Powertools log lines and EMF metrics: CloudWatch Logs)."""
        out = io.StringIO()
        with captured_logs(out):
            resp = invoke(function, event)
        return resp, len(out.getvalue().encode("utf-8"))

    def quiet(self, function: str, event: dict[str, Any]) -> Any:
        """A setup call: not counted (nor what the notifier does with its intents)."""
        self.usage.active = False
        try:
            resp, _ = self._invoke(function, event)
            self._deliver(counted=False)
        finally:
            self.usage.active = True
        return resp

    def measure(self, label: str, function: str, event: dict[str, Any], expect: int | None = 200) -> Any:
        self.usage.take()
        self.sdk_s = 0.0
        started = time.perf_counter()
        resp, log_bytes = self._invoke(function, event)
        ms = (time.perf_counter() - started) * 1000
        calls, units = self.usage.take()
        if expect is not None and getattr(resp, "status", None) != expect:
            raise AssertionError(f"{label}: expected {expect}, got {getattr(resp, 'status', resp)}: {resp}")
        self.results[label].add(calls, units, ms, self.sdk_s * 1000, log_bytes)
        self._deliver(counted=True)
        return resp

    def seal(self, counted: bool) -> None:
        """The audit stream's records to the audit sealer, in one batch (as its 5-second window
        gathers them at load); counted per audit entry sealed."""
        if not self.audit_stream.pending():
            return
        self.usage.active = counted
        self.usage.take()
        self.sdk_s = 0.0
        before = self.audit_stream.stats.delivered
        invocations = self.audit_stream.stats.invocations
        started = time.perf_counter()
        out = io.StringIO()
        try:
            with captured_logs(out):
                self.audit_stream.flush(lambda event: invoke("audit_sealer", event))
        finally:
            self.usage.active = True
        ms = (time.perf_counter() - started) * 1000
        calls, units = self.usage.take()
        sealed = self.audit_stream.stats.delivered - before
        if counted and sealed:
            self.sealed += sealed
            self.seal_batches += self.audit_stream.stats.invocations - invocations
            self.sealer.requests += sealed - 1
            self.sealer.add(calls, units, ms / sealed, self.sdk_s * 1000, len(out.getvalue().encode("utf-8")))

    def _deliver(self, counted: bool) -> None:
        """The stream's new records to the notifier, as the event source mapping would."""
        if not counted:
            self.seal(counted=False)
        if not self.stream.pending():
            return
        self.usage.take()
        self.sdk_s = 0.0
        before = self.stream.stats.delivered
        started = time.perf_counter()
        out = io.StringIO()
        with captured_logs(out):
            self.stream.flush(lambda event: invoke("notifier", event))
        ms = (time.perf_counter() - started) * 1000
        calls, units = self.usage.take()
        delivered = self.stream.stats.delivered - before
        if counted and delivered:
            self.intents += delivered
            self.notifier.requests += delivered - 1  # add() counts one more
            self.notifier.add(calls, units, ms, self.sdk_s * 1000, len(out.getvalue().encode("utf-8")))

    # data ---------------------------------------------------------------------------------
    def identity(self, *, nhs: bool = True) -> dict[str, Any]:
        self.n += 1
        born = dt.date(2009, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 365 * 16))
        out: dict[str, Any] = {
            "given_names": self.rng.choice(GIVEN),
            "family_name": f"{self.rng.choice(FAMILY)}-{self.n}",
            "date_of_birth": born.isoformat(),
            "sex": self.rng.choice(["female", "male"]),
            "postcode": self.rng.choice(["N1 9GU", "E8 1DY", "NW1 2DB", "SE1 7PB"]),
        }
        if nhs:
            out["nhs_number"] = nhs_number(self.rng)
        return out

    def register_body(self, identity: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {**identity, "categories": ["child_in_need"], "review_by": self.review_by, **extra}

    def new_child(self, who: Any = CAMDEN, **extra: Any) -> str:
        identity = self.identity()
        resp = self.quiet(
            "records", make_event("POST", "/v1/children", self.register_body(identity, **extra), caller=who)
        )
        assert resp.status == 201, resp.json()
        return str(resp.json()["child_id"])

    def new_transfer(self) -> str:
        child_id = self.new_child()
        body = {"to_org": "E09000012", "reason": "family_moved", "move_date": dt.date.today().isoformat()}
        resp = self.quiet(
            "transfers", make_event("POST", f"/v1/children/{child_id}/transfers", body, caller=CAMDEN)
        )
        assert resp.status == 201, resp.json()
        return str(resp.json()["transfer_id"])

    # the scenarios -------------------------------------------------------------------------
    def populate(self, population: int) -> None:
        """Registrations, measured: the population later requests find."""
        for _ in range(population):
            identity = self.identity(nhs=self.rng.random() < 0.7)
            resp = self.measure(
                "POST /v1/children",
                "records",
                make_event("POST", "/v1/children", self.register_body(identity), caller=CAMDEN),
                expect=None,
            )
            if resp.status == 201:
                self.children.append((resp.json()["child_id"], identity))

    def warm(self) -> None:
        """Each function's first request (blind-index key, branch key) outside the figures."""
        child_id, identity = self.children[0]
        self.quiet(
            "search",
            make_event("POST", "/v1/searches", {**identity, "reason": "referral"}, caller=ROYAL_FREE),
        )
        self.quiet("records", make_event("GET", f"/v1/children/{child_id}", caller=CAMDEN))
        self.quiet("inbox", make_event("GET", "/v1/notifications", caller=CAMDEN))
        self.quiet(
            "transfers", make_event("GET", "/v1/transfers", caller=HACKNEY, query={"direction": "incoming"})
        )

    def searches(self, count: int) -> Counter[str]:
        """Searches; the audit entries they write are sealed at the end, in one batch."""
        self.seal(counted=False)
        outcomes: Counter[str] = Counter()
        for i in range(count):
            identity = self.children[i % len(self.children)][1] if i % 4 else self.identity(nhs=False)
            body = {k: v for k, v in identity.items() if k != "nhs_number" or i % 2}
            resp = self.measure(
                "POST /v1/searches",
                "search",
                make_event("POST", "/v1/searches", {**body, "reason": "emergency_care"}, caller=ROYAL_FREE),
            )
            outcomes[resp.json()["outcome"]] += 1
        self.seal(counted=True)
        return outcomes

    def every_other_route(self, reps: int) -> None:
        today = dt.date.today().isoformat()
        for i in range(reps):
            child_id = self.children[i % len(self.children)][0]
            self.measure(
                "GET /v1/children/{child_id}",
                "records",
                make_event("GET", f"/v1/children/{child_id}", caller=CAMDEN),
            )
            self.measure(
                "PATCH /v1/children/{child_id}",
                "records",
                make_event(
                    "PATCH",
                    f"/v1/children/{child_id}",
                    {"categories": ["child_in_need", "domestic_abuse"][: 1 + i % 2]},
                    caller=CAMDEN,
                ),
            )
            self.measure(
                "PATCH /v1/children/{child_id} (identity correction)",
                "records",
                make_event(
                    "PATCH",
                    f"/v1/children/{child_id}",
                    {"postcode": ["N1 9GU", "E8 1DY"][i % 2]},
                    caller=CAMDEN,
                ),
            )
            self.measure(
                "GET /v1/children/{child_id}/access-log",
                "records",
                make_event("GET", f"/v1/children/{child_id}/access-log", caller=CAMDEN),
            )
            self.measure(
                "GET /v1/children/{child_id}/subject-access-report",
                "records",
                make_event("GET", f"/v1/children/{child_id}/subject-access-report", caller=CAMDEN_MANAGER),
            )
            closing = self.new_child()
            self.measure(
                "POST /v1/children/{child_id}/close",
                "records",
                make_event("POST", f"/v1/children/{closing}/close", {"reason": "plan_ended"}, caller=CAMDEN),
            )
            # break-glass: a shielded Hackney child found by a Camden search, revealed by Camden's manager
            shielded = self.identity()
            resp = self.quiet(
                "records",
                make_event(
                    "POST",
                    "/v1/children",
                    self.register_body(shielded, shielding={"reason": "refuge"}),
                    caller=HACKNEY_MANAGER,
                ),
            )
            assert resp.status == 201, resp.json()
            found = self.quiet(
                "search",
                make_event("POST", "/v1/searches", {**shielded, "reason": "new_to_service"}, caller=CAMDEN),
            )
            self.measure(
                "POST /v1/searches/{search_id}/break-glass",
                "search",
                make_event(
                    "POST",
                    f"/v1/searches/{found.json()['search_id']}/break-glass",
                    {"justification": "A child at immediate risk; the manager approved the reveal."},
                    caller=CAMDEN_MANAGER,
                ),
            )
            moving = self.new_child()
            self.measure(
                "POST /v1/children/{child_id}/transfers",
                "transfers",
                make_event(
                    "POST",
                    f"/v1/children/{moving}/transfers",
                    {"to_org": "E09000012", "reason": "family_moved", "move_date": today},
                    caller=CAMDEN,
                ),
                expect=201,
            )
            self.measure(
                "GET /v1/transfers",
                "transfers",
                make_event("GET", "/v1/transfers", caller=HACKNEY, query={"direction": "incoming"}),
            )
            for action, body in (
                ("acknowledge", None),
                ("accept", None),
                ("decline", {"reason": "not_resident"}),
            ):
                transfer_id = self.new_transfer()
                self.measure(
                    f"POST /v1/transfers/{{transfer_id}}/{action}",
                    "transfers",
                    make_event("POST", f"/v1/transfers/{transfer_id}/{action}", body, caller=HACKNEY),
                )
            self.measure(
                "POST /v1/transfers/{transfer_id}/withdraw",
                "transfers",
                make_event("POST", f"/v1/transfers/{self.new_transfer()}/withdraw", caller=CAMDEN),
            )
            listed = self.measure(
                "GET /v1/notifications", "inbox", make_event("GET", "/v1/notifications", caller=HACKNEY)
            )
            unread = [n["id"] for n in listed.json()["items"] if not n["read"]]
            if unread:
                self.measure(
                    "POST /v1/notifications/{notification_id}/read",
                    "inbox",
                    make_event("POST", f"/v1/notifications/{unread[0]}/read", caller=HACKNEY),
                )
            self.measure(
                "GET /v1/organisations/{code}",
                "inbox",
                make_event("GET", "/v1/organisations/E09000012", caller=CAMDEN),
            )
            current = self.quiet(
                "inbox", make_event("GET", "/v1/organisations/E08000025", caller=ADMIN)
            ).json()
            self.measure(
                "PUT /v1/organisations/{code}",
                "inbox",
                make_event("PUT", "/v1/organisations/E08000025", current, caller=ADMIN),
            )
            self.measure("GET /health", "inbox", make_event("GET", "/health"))
            self.measure("GET /openapi.json", "inbox", make_event("GET", "/openapi.json"))
            token = self.aws.tokens.issue_token("E09000007", "la_practitioner", f"bench-token-{i}")
            self.measure(
                "authorizer (a token not in API Gateway's cache)",
                "authorizer",
                make_authorizer_event("GET", "/v1/notifications", token),
                expect=None,
            )
        self._clock(reps)

    def _clock(self, reps: int) -> None:
        event = json.loads((ROOT / "events" / "clock-schedule.json").read_text())
        self.quiet("clock", dict(event))  # the first run catches up on the dates before it
        for _ in range(reps):
            self.usage.take()
            self.sdk_s = 0.0
            started = time.perf_counter()
            out = io.StringIO()
            with captured_logs(out):
                invoke("clock", dict(event))
            ms = (time.perf_counter() - started) * 1000
            calls, units = self.usage.take()
            self.results["clock (a run with nothing due)"].add(
                calls, units, ms, self.sdk_s * 1000, len(out.getvalue())
            )
            self._deliver(counted=True)

    def imports(self, rows: int, reps: int) -> None:
        """Bulk import: Camden uploads a caseload of `rows` rows (~1% rejected, ~0.5% children
        already active at Hackney), the worker imports it from the queue (counted per row, with
        the notifier's work for the duplicates), the progress and report are read and the imports
        listed; then the same file is uploaded again (every row unchanged, as a monthly re-import
        mostly is)."""
        settings = import_settings()
        caseload = fake_rows(rows, seed=20261202, prefix="BENCH")
        for i in range(0, rows, 100):
            caseload[i]["nhs_number"] = "9990000019"  # not a valid NHS number: rejected
        for row in caseload[7:rows:200]:
            body = {k: row[k] for k in ("given_names", "family_name", "date_of_birth", "nhs_number")}
            body |= {"categories": ["looked_after"], "review_by": row["review_by"]}
            resp = self.quiet("records", make_event("POST", "/v1/children", body, caller=HACKNEY))
            assert resp.status == 201, resp.json()
        data = to_csv(caseload)
        queue = LocalQueue(self.aws)
        rows_per_invocation = settings["batch_rows"] * settings["batch_size"]
        for label in (
            "import worker, per row (first import)",
            "import worker, per row (re-import, unchanged)",
        ):
            accepted = self.measure(
                "POST /v1/imports",
                "imports",
                make_event("POST", "/v1/imports", data, CAMDEN, headers={"Content-Type": "text/csv"}),
                expect=202,
            )
            self._work(label, queue, rows)
            self.extra[label] = {
                "rows": rows,
                "memory_gb": settings["memory_gb"],
                # in AWS, with the queue full: BatchSize messages of IMPORT_BATCH_ROWS rows per invocation,
                # and the event source mapping's receive and delete (a request each) per invocation
                "rows_per_invocation": rows_per_invocation,
                "invocations_per_unit": 1 / rows_per_invocation,
                "queue_requests_per_unit": 2 / rows_per_invocation,
            }
            import_id = accepted.json()["import_id"]
            for _ in range(reps):
                self.measure(
                    "GET /v1/imports/{import_id}",
                    "imports",
                    make_event("GET", f"/v1/imports/{import_id}", caller=CAMDEN, query={"limit": "1"}),
                )
        for _ in range(reps):
            self.measure("GET /v1/imports", "imports", make_event("GET", "/v1/imports", caller=CAMDEN))
        for label in ("POST /v1/imports", "GET /v1/imports/{import_id}", "GET /v1/imports"):
            self.extra[label] = {"memory_gb": settings["api_memory_gb"]}
        self.extra["POST /v1/imports"]["rows"] = rows

    def _work(self, label: str, queue: LocalQueue, rows: int) -> None:
        """The queue to the import worker, as the event source mapping feeds it; counted per row."""
        self.usage.take()
        self.sdk_s = 0.0
        out = io.StringIO()
        started = time.perf_counter()
        with captured_logs(out):
            queue.drain(lambda event: invoke("import_worker", event))
        ms = (time.perf_counter() - started) * 1000
        calls, units = self.usage.take()
        if queue.stats.errors or queue.stats.retried:
            raise AssertionError(f"{label}: the import did not run cleanly: {queue.stats}")
        measured = self.results[label]
        measured.requests += rows - 1  # add() counts one more
        measured.add(calls, units, ms / rows, self.sdk_s * 1000, len(out.getvalue().encode("utf-8")))
        self._deliver(counted=True)

    def unmeasured_routes(self) -> list[str]:
        declared = {f"{r.method} {r.resource}" for r in route_table().routes}
        return sorted(declared - set(self.results))

    def summary(self) -> dict[str, Any]:
        out = {
            label: {**m.summary(), **self.extra.get(label, {})} for label, m in sorted(self.results.items())
        }
        out["notifier (per intent delivered)"] = {**self.notifier.summary(), "intents": self.intents}
        out["audit sealer (per audit entry sealed)"] = {
            **self.sealer.summary(),
            "entries": self.sealed,
            "entries_per_batch": round(self.sealed / max(self.seal_batches, 1), 1),
        }
        return out


Scenario = Callable[[Endpoints], None]
