"""KMS calls as production would see them: many function instances over hours of frozen-clock time.

K writer instances (the records function: registrations, reads) and M reader instances (the
search function), each built like a Lambda instance with its own Services and caches, serve
a Poisson stream of searches, registrations and reads for SIM_HOURS of simulated time.
Lambda recycles an instance after 1-3 hours; its successor starts cold. The population was
registered over the previous SIM_HISTORY_YEARS, so its records are sealed under several
branch-key versions, and one rotation falls due inside the window (the clock function runs
every 15 minutes). The same stream, instances and lifetimes are replayed against the
design before branch keys (a data key per instance and 5 minutes, envelope format 1), in
the same run. Every KMS and key-store call is counted at botocore, per kind of operation;
only the window is counted, not the history.

Assumptions (stated, not measured): searches at ContactPoint's design load spread evenly
over the day (200,000 a day, 2.3 a second - the quietest rate that load allows, which is the
worst case for caching); 1,000 registrations and 2,000 record reads a day; 0 candidates to
decrypt for 30% of searches, otherwise 1 + Poisson(1) (at most 11, as the blocking keys
bound it); requests spread uniformly over the instances. The format-1 unwrap cache is scaled
to the same share of the population as production's 4,096 keys of 500,000 children.

Run alone: ``python tests/bench/bench_keys.py`` (prints one JSON line); `make bench` includes it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from moto.kms.models import kms_backends  # noqa: E402
from signpost import wiring  # noqa: E402
from signpost.crypto.blind_index import BlindIndexer  # noqa: E402
from signpost.dal import clients  # noqa: E402
from signpost.dal.branch_keys import DynamoBranchKeyRotation  # noqa: E402
from signpost.dal.kms import KmsMac  # noqa: E402
from signpost.logic.identity import open_identity, seal  # noqa: E402
from signpost.logic.key_rotation import rotate_if_due  # noqa: E402
from signpost.settings import Settings, get_settings  # noqa: E402

from infrastructure.local.aws import ACCOUNT_ID, REGION, LocalAws  # noqa: E402
from tests.support.legacy_envelope import LegacySealer  # noqa: E402

HOURS = float(os.environ.get("SIM_HOURS", "4"))
SEARCHES_PER_DAY = float(os.environ.get("SIM_SEARCHES_PER_DAY", "200000"))
REGISTRATIONS_PER_DAY = float(os.environ.get("SIM_REGISTRATIONS_PER_DAY", "1000"))
READS_PER_DAY = float(os.environ.get("SIM_READS_PER_DAY", "2000"))
READERS = int(os.environ.get("SIM_READERS", "4"))
WRITERS = int(os.environ.get("SIM_WRITERS", "2"))
POPULATION = int(os.environ.get("SIM_POPULATION", "5000"))
HISTORY_YEARS = int(os.environ.get("SIM_HISTORY_YEARS", "3"))
PRODUCTION_CHILDREN = 500_000
LEGACY_CACHE = 4096  # the format-1 design's unwrap cache per instance
LIFETIME_HOURS = (1.0, 3.0)
CLOCK_PERIOD_S = 900
DAY_S = 86_400.0


class SimClock:
    """Frozen time: seconds since the history began; the caches read it as their monotonic clock."""

    def __init__(self, origin: dt.datetime) -> None:
        self.origin = origin
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def wall(self) -> dt.datetime:
        return self.origin + dt.timedelta(seconds=self.t)


class Calls:
    """KMS and DynamoDB calls counted at botocore, under the label of the operation running."""

    def __init__(self, key_store_table: str) -> None:
        self.label = "uncounted"
        self.by_label: dict[str, Counter[str]] = defaultdict(Counter)
        self._key_store = key_store_table
        for client in (clients.kms(), clients.dynamodb()):
            client.meta.events.register("before-parameter-build.*.*", self)

    def __call__(self, model: Any, params: Any = None, **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}"
        if (params or {}).get("TableName") == self._key_store:
            name += "(key store)"
        self.count(name)

    def count(self, name: str) -> None:
        self.by_label[self.label][name] += 1


class MotoDataKeys:
    """The format-1 design's KMS calls, made on moto's KMS backend directly and counted here.

    The same keys and encryption-context checks as through boto3, without botocore's ~1.6 ms
    a call: that design makes about one call per candidate, tens of thousands per hour.
    """

    def __init__(self, key_id: str, calls: Calls) -> None:
        self._key_id, self._calls = key_id, calls
        self._backend = kms_backends[ACCOUNT_ID][REGION]
        self._context = {"purpose": "signpost-identity"}

    def generate_data_key(self) -> tuple[bytes, bytes]:
        self._calls.count("kms:GenerateDataKey")
        plaintext, wrapped, _ = self._backend.generate_data_key(self._key_id, self._context, 32, "AES_256")
        return plaintext, wrapped

    def unwrap(self, wrapped: bytes) -> bytes:
        self._calls.count("kms:Decrypt")
        return self._backend.decrypt(wrapped, self._context)[0]


@dataclass
class Event:
    at: float
    kind: str  # search | register | read
    slot: int
    candidates: list[int] = field(default_factory=list)  # population indices


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _candidates(rng: random.Random, population: int) -> list[int]:
    if rng.random() < 0.3:
        return []
    return rng.sample(range(population), min(11, 1 + _poisson(rng, 1.0), population))


def make_events(rng: random.Random, start: float) -> list[Event]:
    rates = {
        "search": SEARCHES_PER_DAY / DAY_S,
        "register": REGISTRATIONS_PER_DAY / DAY_S,
        "read": READS_PER_DAY / DAY_S,
    }
    total = sum(rates.values())
    events, t, population = [], start, POPULATION
    end = start + HOURS * 3600
    while True:
        t += rng.expovariate(total)
        if t >= end:
            return events
        kind = rng.choices(list(rates), weights=list(rates.values()))[0]
        if kind == "search":
            events.append(Event(t, kind, rng.randrange(READERS), _candidates(rng, population)))
        elif kind == "register":
            events.append(Event(t, kind, rng.randrange(WRITERS), _candidates(rng, population)))
            population += 1
        else:
            events.append(Event(t, kind, rng.randrange(WRITERS), [rng.randrange(population)]))


def identity(n: int) -> dict[str, Any]:
    born = dt.date(2009, 1, 1) + dt.timedelta(days=(n * 37) % 6000)
    return {
        "given_names": "Simulated",
        "family_name": f"Child{n}",
        "date_of_birth": born.isoformat(),
        "sex": None,
        "nhs_number": None,
        "postcode": "N1 9GU",
        "other_names": [],
    }


def child_id(n: int) -> str:
    return f"{n:032x}"


class Instance:
    """What one function instance holds: a sealer/opener and a blind indexer."""

    def __init__(self, index: Callable[[], None], open_: Callable[[str, bytes], Any], seal_: Any) -> None:
        self.index, self.open, self.seal = index, open_, seal_


def _frozen(t: float) -> Callable[[], float]:
    return lambda: t


def branch_key_instance(settings: Settings, clock: Callable[[], float], _calls: Calls) -> Instance:
    svc = wiring.make_services(settings, clock)
    return Instance(
        lambda: svc.indexer.index("nd:probe"),
        lambda cid, blob: open_identity(svc.cipher, cid, blob),
        lambda cid, ident: seal(svc.cipher, cid, ident),
    )


def data_key_instance(settings: Settings, clock: SimClock, calls: Calls) -> Instance:
    """The design before branch keys, as each instance of it ran."""
    cache = max(1, round(LEGACY_CACHE * POPULATION / PRODUCTION_CHILDREN))
    sealer = LegacySealer(MotoDataKeys(settings.data_key_id, calls), cache_size=cache, clock=clock)
    indexer = BlindIndexer(KmsMac(settings.hmac_key_id))

    def seal_(cid: str, ident: dict[str, Any]) -> bytes:
        return sealer.encrypt(json.dumps(ident, sort_keys=True, separators=(",", ":")).encode(), cid.encode())

    return Instance(
        lambda: indexer.index("nd:probe"), lambda cid, blob: sealer.decrypt(blob, cid.encode()), seal_
    )


class Pool:
    """Instances of one function; each is replaced by a cold one at the end of its lifetime."""

    def __init__(self, size: int, make: Callable[[], Instance], clock: SimClock, rng: random.Random) -> None:
        self._make, self._clock, self._rng = make, clock, rng
        self.started = 0
        self._slots = [self._start() for _ in range(size)]

    def _start(self) -> tuple[Instance, float]:
        self.started += 1
        return self._make(), self._clock.t + self._rng.uniform(*LIFETIME_HOURS) * 3600

    def get(self, slot: int) -> Instance:
        _, ends = self._slots[slot]
        if self._clock.t >= ends:
            self._slots[slot] = self._start()
        return self._slots[slot][0]


def replay(
    design: str,
    make: Callable[[Settings, SimClock, Calls], Instance],
    events: list[Event],
    blobs: list[bytes],
    clock: SimClock,
    calls: Calls,
    settings: Settings,
    start: float,
) -> dict[str, Any]:
    """Serve the window's events with fresh pools of `design` instances; count calls per kind."""
    rng = random.Random(7)  # the same lifetimes for both designs
    clock.t = start
    readers = Pool(READERS, lambda: make(settings, clock, calls), clock, rng)
    writers = Pool(WRITERS, lambda: make(settings, clock, calls), clock, rng)
    rotation = DynamoBranchKeyRotation(settings.key_store_table, settings.data_key_id)
    blobs = list(blobs)
    ops: Counter[str] = Counter()
    next_tick = start
    wall = time.perf_counter()
    for event in events:
        while design == "branch_keys" and next_tick <= event.at:
            clock.t, calls.label = next_tick, f"{design}:rotation"
            rotate_if_due(rotation, clock.wall(), dt.timedelta(days=settings.branch_key_rotation_days))
            next_tick += CLOCK_PERIOD_S
        clock.t, calls.label = event.at, f"{design}:{event.kind}"
        instance = (readers if event.kind == "search" else writers).get(event.slot)
        instance.index()
        for n in event.candidates:
            instance.open(child_id(n), blobs[n])
        if event.kind == "register":
            n = len(blobs)
            blobs.append(instance.seal(child_id(n), identity(n)))
        ops[event.kind] += 1
    calls.label = "uncounted"
    counted = {k.split(":", 1)[1]: v for k, v in calls.by_label.items() if k.startswith(f"{design}:")}

    def per_op(kind: str, service: str) -> float:
        made = sum(n for name, n in counted.get(kind, Counter()).items() if name.startswith(service))
        return round(made / ops[kind], 4) if ops[kind] else 0.0

    return {
        "kms_per_search": per_op("search", "kms"),
        "kms_per_registration": per_op("register", "kms"),
        "kms_per_read": per_op("read", "kms"),
        "key_store_reads_per_search": per_op("search", "dynamodb:GetItem(key store)"),
        "key_store_reads_per_registration": per_op("register", "dynamodb:GetItem(key store)"),
        "kms_calls_by_operation": {k: dict(sorted(v.items())) for k, v in sorted(counted.items())},
        "operations": dict(ops),
        "instances_started": readers.started + writers.started,
        "seconds": round(time.perf_counter() - wall, 1),
    }


def simulate() -> dict[str, Any]:
    rng = random.Random(20261202)
    window_start_wall = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # a Monday morning
    with LocalAws() as local:
        settings = get_settings()
        period = dt.timedelta(days=settings.branch_key_rotation_days)
        # The history began so that its last rotation falls due two hours into the window.
        history = period * max(1, round(HISTORY_YEARS * 365 / settings.branch_key_rotation_days))
        origin = window_start_wall - history + dt.timedelta(hours=2)
        clock = SimClock(origin)
        _clear_key_store(local)
        calls = Calls(settings.key_store_table)
        rotation = DynamoBranchKeyRotation(settings.key_store_table, settings.data_key_id)
        start = (window_start_wall - origin).total_seconds()

        print(
            f"sealing {POPULATION} records registered over {HISTORY_YEARS} years (both designs)…",
            file=sys.stderr,
        )
        times = sorted(rng.uniform(0, start) for _ in range(POPULATION))
        old_writer = data_key_instance(settings, clock, calls)
        rotate_if_due(rotation, clock.wall(), period)  # the first branch key, when the history begins
        new_writer, next_due = branch_key_instance(settings, _frozen(0.0), calls), origin + period
        v1_blobs, v2_blobs = [], []
        for n, t in enumerate(times):
            while origin + dt.timedelta(seconds=t) >= next_due:
                # The clock function rotates on time; that epoch's instances seal (uncounted history).
                clock.t = (next_due - origin).total_seconds()
                rotate_if_due(rotation, clock.wall(), period)
                new_writer, next_due = (
                    branch_key_instance(settings, _frozen(clock.t), calls),
                    next_due + period,
                )
            clock.t = t
            v2_blobs.append(new_writer.seal(child_id(n), identity(n)))
            v1_blobs.append(old_writer.seal(child_id(n), identity(n)))
        versions_before = len({b[1:17] for b in v2_blobs})

        events = make_events(rng, start)
        print(
            f"replaying {len(events)} operations over {HOURS:g} h, {READERS}+{WRITERS} instances…",
            file=sys.stderr,
        )
        new = replay("branch_keys", branch_key_instance, events, v2_blobs, clock, calls, settings, start)
        old = replay("data_keys", data_key_instance, events, v1_blobs, clock, calls, settings, start)
    return {
        "assumptions": {
            "hours": HOURS,
            "searches_per_day": SEARCHES_PER_DAY,
            "registrations_per_day": REGISTRATIONS_PER_DAY,
            "reads_per_day": READS_PER_DAY,
            "reader_instances": READERS,
            "writer_instances": WRITERS,
            "instance_lifetime_hours": list(LIFETIME_HOURS),
            "population": POPULATION,
            "branch_key_versions_in_population": versions_before,
            "branch_key_cache_seconds": settings.branch_key_cache_seconds,
            "branch_key_rotation_days": settings.branch_key_rotation_days,
        },
        "branch_keys": new,
        "before_data_keys": old,
    }


def _clear_key_store(local: LocalAws) -> None:
    """The history makes its own first branch key, at its own (simulated) time."""
    client = clients.dynamodb()
    table = local.tables["KeyStoreTable"]
    for item in client.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "signpost-identity"}},
    )["Items"]:
        client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def main() -> None:
    figures = simulate()
    new, old = figures["branch_keys"], figures["before_data_keys"]
    print(
        f"KMS calls per search {new['kms_per_search']} (before: {old['kms_per_search']}), "
        f"per registration {new['kms_per_registration']} (before: {old['kms_per_registration']})",
        file=sys.stderr,
    )
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
