"""make load: a bounded load test of the local stack, as `make local` serves it.

Starts `python -m infrastructure.local` itself on 127.0.0.1 on a free port the OS picks,
registers a population of children over HTTP, then runs LOAD_USERS client threads for
LOAD_SECONDS with a realistic mix - searches 90% (70% of them for a registered child, the
rest for nobody), registrations 3%, record reads 3%, transfers 2% (a request, then the
receiving authority accepts), inbox reads 2% - and stops the stack.

It reports, as its last line one JSON object:
- errors: every response that is not the expected 2xx (the run fails on any);
- lost notifications: the stack checks that every outbox intent written has its inbox item,
  and the client that every search which found another authority's child, and every
  transfer request, is in the right inbox (by search_id / transfer_id);
- p50/p99 latency per operation as the client saw it, and throughput;
- per route, the stack's own time (authorizer + function + notifier, queueing excluded)
  against the time inside the botocore calls it made (moto here, AWS in production):
  `serve_to_sdk` for search is the figure to keep at or under 10.

Why a threaded client and not Locust: the local stack runs one invocation at a time (moto
is process-wide), so a few closed-loop threads already saturate it; Locust would add gevent,
greenlet, Flask and a dozen other packages to the dev dependencies for nothing it measures
better here, and its gevent monkey-patching cannot share a process with moto.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
USERS = int(os.environ.get("LOAD_USERS", "4"))
POPULATION = int(os.environ.get("LOAD_POPULATION", "150"))
STARTUP_TIMEOUT = 120.0
MIX = {"search": 90, "register": 3, "read": 3, "transfer": 2, "inbox": 2}
LAS = ["E09000007", "E09000012", "E08000025"]
SEARCHERS = [("RAL", "health", "emergency_care"), ("URN-100050", "education", "safeguarding_concern")]
GIVEN = ["Oliver", "Amelia", "Isla", "Noah", "Freya", "Arthur", "Poppy", "Muhammad", "Evie", "Theo"]
SYLLABLES = ["ash", "bel", "cor", "dun", "el", "fen", "gar", "hol", "ive", "kel", "lor", "mar", "nor", "pen"]
URL_LINE = re.compile(r"local stack on (http://127\.0\.0\.1:\d+)")


@dataclass
class Child:
    child_id: str
    identity: dict[str, str]
    org: str
    busy: bool = False  # in a transfer: kept out of the mix until it is accepted
    in_use: int = 0  # searches and reads under way: no transfer starts meanwhile


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    expected: set[tuple[str, str, str]] = field(default_factory=set)  # (org, type, id)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    """A port nobody listens on now (the OS's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stack:
    """The local stack in its own process, as `make local` runs it."""

    def __init__(self) -> None:
        self.timings = Path(tempfile.mkstemp(prefix="signpost-load-", suffix=".json")[1])
        env = {
            **os.environ,
            "PORT": str(free_port()),
            "LOCAL_AWS_PORT": str(free_port()),  # signpost-admin's endpoint
            "SIGNPOST_LOCAL_TIMINGS": str(self.timings),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infrastructure.local"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = self._wait_for_url()
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            if found := URL_LINE.search(line):
                return found.group(1)
        self.stop()
        raise RuntimeError("the local stack did not start")

    def _read_rest(self) -> None:
        assert self.process.stderr is not None
        self.log_lines = sum(1 for _ in self.process.stderr)

    def stop(self) -> dict[str, Any]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            return dict(json.loads(self.timings.read_text(encoding="utf-8") or "{}"))
        finally:
            self.timings.unlink(missing_ok=True)


class Client:
    def __init__(self, url: str, rng: random.Random) -> None:
        self.url, self.rng = url, rng
        self.http = requests.Session()
        self.tokens: dict[tuple[str, str], str] = {}

    def token(self, org: str, role: str) -> dict[str, str]:
        if (org, role) not in self.tokens:
            body = {"org": org, "role": role, "sub": f"load-{org}-{role}"}
            resp = self.http.post(f"{self.url}/dev/token", json=body, timeout=30)
            resp.raise_for_status()
            self.tokens[(org, role)] = resp.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[(org, role)]}"}

    def call(self, method: str, path: str, org: str, role: str, **kwargs: Any) -> requests.Response:
        return self.http.request(
            method, f"{self.url}{path}", headers=self.token(org, role), timeout=60, **kwargs
        )


def new_identity(rng: random.Random, taken: set[str]) -> dict[str, str]:
    while True:
        family = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
        born = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 16))
        key = f"{family}/{born}"
        if key not in taken:
            taken.add(key)
            return {
                "given_names": rng.choice(GIVEN),
                "family_name": family,
                "date_of_birth": born.isoformat(),
            }


class Load:
    def __init__(self, url: str) -> None:
        self.url = url
        self.children: list[Child] = []
        self.taken: set[str] = set()
        self.pool_lock = threading.Lock()
        self.results = Results()
        self.review_by = (dt.date.today() + dt.timedelta(days=200)).isoformat()
        self.today = dt.date.today().isoformat()

    # operations -----------------------------------------------------------------------
    def register(self, client: Client, timed: bool = True) -> None:
        org = client.rng.choice(LAS)
        with self.pool_lock:
            identity = new_identity(client.rng, self.taken)
        body = {**identity, "categories": ["child_in_need"], "review_by": self.review_by}
        resp = self._timed(
            "register",
            timed,
            lambda: client.call("POST", "/v1/children", org, "la_practitioner", json=body),
            201,
        )
        if resp is not None:
            with self.pool_lock:
                self.children.append(Child(resp.json()["child_id"], identity, org))

    def search(self, client: Client) -> None:
        org, role, reason = client.rng.choice(SEARCHERS)
        child = self._pick(client) if client.rng.random() < 0.7 else None
        if child is not None:
            identity = child.identity
        else:
            with self.pool_lock:
                identity = new_identity(client.rng, self.taken)
        body = {**identity, "reason": reason}
        try:
            resp = self._timed(
                "search", True, lambda: client.call("POST", "/v1/searches", org, role, json=body), 200
            )
        finally:
            self._release(child)
        if resp is None:
            return
        result = resp.json()
        with self.results.lock:
            self.results.outcomes[result["outcome"]] += 1
            if child is not None and result["outcome"] == "match":
                self.results.expected.add((child.org, "record_viewed", result["search_id"]))
            elif child is not None:
                self.results.errors["search: a registered child not matched"] += 1

    def read(self, client: Client) -> None:
        child = self._pick(client)
        if child is not None:
            try:
                self._timed(
                    "read",
                    True,
                    lambda: client.call(
                        "GET", f"/v1/children/{child.child_id}", child.org, "la_practitioner"
                    ),
                    200,
                )
            finally:
                self._release(child)

    def transfer(self, client: Client) -> None:
        with self.pool_lock:
            free = [c for c in self.children if not c.busy and not c.in_use]
            if not free:
                return
            child = client.rng.choice(free)
            child.busy = True
        try:
            to_org = client.rng.choice([o for o in LAS if o != child.org])
            body = {"to_org": to_org, "reason": "family_moved", "move_date": self.today}
            resp = self._timed(
                "transfer",
                True,
                lambda: client.call(
                    "POST",
                    f"/v1/children/{child.child_id}/transfers",
                    child.org,
                    "la_practitioner",
                    json=body,
                ),
                201,
            )
            if resp is None:
                return
            transfer_id = resp.json()["transfer_id"]
            with self.results.lock:
                self.results.expected.add((to_org, "transfer_requested", transfer_id))
            accepted = self._timed(
                "transfer",
                True,
                lambda: client.call("POST", f"/v1/transfers/{transfer_id}/accept", to_org, "la_practitioner"),
                200,
            )
            if accepted is not None:
                with self.results.lock:
                    self.results.expected.add((child.org, "transfer_accepted", transfer_id))
                child.org = to_org
        finally:
            with self.pool_lock:
                child.busy = False

    def inbox(self, client: Client) -> None:
        org = client.rng.choice(LAS)
        self._timed(
            "inbox",
            True,
            lambda: client.call("GET", "/v1/notifications", org, "la_practitioner", params={"limit": 20}),
            200,
        )

    # helpers ----------------------------------------------------------------------------
    def _pick(self, client: Client) -> Child | None:
        """A child to search for or read (not in a transfer), held until released."""
        with self.pool_lock:
            free = [c for c in self.children if not c.busy]
            if not free:
                return None
            child = client.rng.choice(free)
            child.in_use += 1
            return child

    def _release(self, child: Child | None) -> None:
        if child is not None:
            with self.pool_lock:
                child.in_use -= 1

    def _timed(self, kind: str, timed: bool, send: Any, status: int) -> requests.Response | None:
        started = time.perf_counter()
        try:
            resp = send()
        except requests.RequestException as exc:
            with self.results.lock:
                self.results.errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.results.lock:
            if timed:
                self.results.latencies[kind].append(elapsed)
            if resp.status_code != status:
                self.results.errors[f"{kind}: HTTP {resp.status_code}"] += 1
                return None
        return resp

    def user(self, seed: int, until: float) -> None:
        client = Client(self.url, random.Random(seed))
        operations = {
            "search": self.search,
            "register": self.register,
            "read": self.read,
            "transfer": self.transfer,
            "inbox": self.inbox,
        }
        kinds, weights = list(MIX), list(MIX.values())
        while time.monotonic() < until:
            operations[client.rng.choices(kinds, weights)[0]](client)
        client.http.close()

    def lost_notifications(self) -> int:
        """Expected notifications missing from their organisation's inbox (all pages read)."""
        client = Client(self.url, random.Random(0))
        seen: set[tuple[str, str, str]] = set()
        for org in LAS:
            path: str | None = "/v1/notifications?limit=100"
            while path:
                page = client.call("GET", path, org, "la_practitioner").json()
                for item in page["items"]:
                    for ref in ("search_id", "transfer_id"):
                        if item.get(ref):
                            seen.add((org, item["type"], item[ref]))
                path = page.get("next")  # the API gives the next page's path
        client.http.close()
        return len(self.results.expected - seen)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def main() -> int:
    print("starting the local stack…", file=sys.stderr)
    stack = Stack()
    try:
        load = Load(stack.url)
        setup = Client(stack.url, random.Random(1))
        print(f"{stack.url}: registering {POPULATION} children…", file=sys.stderr)
        for _ in range(POPULATION):
            load.register(setup, timed=False)
        setup.http.close()
        print(f"{USERS} users for {SECONDS:g} s…", file=sys.stderr)
        started = time.monotonic()
        until = started + SECONDS
        threads = [threading.Thread(target=load.user, args=(100 + i, until)) for i in range(USERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        lost_client = load.lost_notifications()
    finally:
        stack_figures = stack.stop()
    results = load.results
    operations = sum(len(v) for v in results.latencies.values())
    every = [x for v in results.latencies.values() for x in v]
    routes = stack_figures.get("routes", {})
    search = routes.get("POST /v1/searches", {})
    figures = {
        "bench": "load",
        "users": USERS,
        "seconds": round(elapsed, 1),
        "operations": operations,
        "throughput_per_s": round(operations / elapsed, 1),
        "mix": {k: len(v) for k, v in sorted(results.latencies.items())},
        "errors": sum(results.errors.values()),
        "error_kinds": dict(results.errors),
        "search_outcomes": dict(results.outcomes),
        "latency_ms": {
            "all": {"p50": percentile(every, 0.5), "p99": percentile(every, 0.99)},
            **{
                k: {
                    "p50": percentile(v, 0.5),
                    "p99": percentile(v, 0.99),
                    "mean": round(statistics.fmean(v), 1),
                }
                for k, v in sorted(results.latencies.items())
            },
        },
        "notifications": {
            "expected_by_client": len(results.expected),
            "lost_by_client": lost_client,
            **stack_figures.get("notifications", {}),
            "stream": stack_figures.get("stream", {}),
        },
        "search_stack_ms": search.get("serve_ms"),
        "search_sdk_ms": search.get("sdk_ms"),
        "search_sdk_calls": search.get("sdk_calls"),
        "search_stack_to_sdk": search.get("serve_to_sdk"),
        "routes": routes,
    }
    print(
        f"{operations} operations in {elapsed:.0f} s ({figures['throughput_per_s']}/s), "
        f"{figures['errors']} errors, "
        f"{lost_client} + {figures['notifications'].get('lost')} lost notifications; "
        f"search p50/p99 {figures['latency_ms'].get('search', {})}; "
        f"search: stack {search.get('serve_ms')} ms vs SDK {search.get('sdk_ms')} ms "
        f"= {search.get('serve_to_sdk')}x",
        file=sys.stderr,
    )
    print(json.dumps(figures, sort_keys=True))
    lost = lost_client + int(figures["notifications"].get("lost", 1))
    return 0 if figures["errors"] == 0 and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
