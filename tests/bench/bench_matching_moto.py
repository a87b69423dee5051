"""Matching benchmark through the real code path: register and search handlers on moto.

    python tests/bench/bench_matching_moto.py [--children 400] [--queries 400] [--never 150]

A seeded synthetic population (matching_population.py) is enrolled through the real
register handler (validation, duplicate check, envelope encryption, blind indexes, one
transaction) against moto, then searched through the real search handler with corrupted
copies (the same error mix as the in-memory benchmark) and with children who were never
enrolled. Candidates read per search are counted from the records BatchGetItem answers
(a botocore hook); searches per second are in-process, moto included. The last line is
one JSON object. The in-memory benchmark (bench_matching.py) covers 500,000 children;
this one proves the figures hold on the stored, encrypted, HMAC-indexed path.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from matching_population import (  # noqa: E402
    NamePools,
    PopulationSpec,
    Query,
    SearchResult,
    corrupted_queries,
    evaluate,
    generate_population,
    never_enrolled_queries,
)
from signpost import wiring  # noqa: E402
from signpost.dal import clients  # noqa: E402
from signpost.matching import MatchIdentity, search_blocking_keys  # noqa: E402
from signpost.models.identity import MAX_AGE_YEARS, today_in_england  # noqa: E402
from signpost.models.search import SearchRequest  # noqa: E402

from infrastructure.local.aws import LocalAws  # noqa: E402
from tests.support.lambda_events import caller, make_event  # noqa: E402
from tests.support.lambda_events import invoke as invoke_handler  # noqa: E402

REGISTRAR = caller("E09000007", "la_practitioner", "bench-registrar")
SEARCHER = caller("RAL", "health", "bench-searcher")


def as_body(identity: MatchIdentity) -> dict[str, Any]:
    body: dict[str, Any] = {
        "given_names": identity.given_names,
        "family_name": identity.family_name,
        "date_of_birth": identity.date_of_birth.isoformat(),
    }
    for name in ("sex", "nhs_number", "postcode"):
        value = getattr(identity, name)
        if value:
            body[name] = value
    return body


def acceptable(identity: MatchIdentity) -> bool:
    try:
        SearchRequest.model_validate({**as_body(identity), "reason": "new_to_service"})
    except ValidationError:
        return False
    return True


def registrable(identity: MatchIdentity, today: dt.date) -> bool:
    """The API refuses a child aged 26 or over; the synthetic population is anchored on a fixed date."""
    dob = identity.date_of_birth
    return dob <= today and (today - dob).days < (MAX_AGE_YEARS * 365)


def invoke(function: str, event: dict[str, Any]) -> Any:
    """The real handler, with its log and EMF metric lines kept off the benchmark's output."""
    with contextlib.redirect_stdout(io.StringIO()):
        return invoke_handler(function, event)


class CandidateCounter:
    def __init__(self) -> None:
        self.read = 0

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        # Child records only: the same BatchGetItem calls also read blocks and audit chain heads.
        for items in (parsed.get("Responses") or {}).values():
            self.read += sum(1 for i in items if i.get("sk", {}).get("S") == "RECORD")


class HandlerSearcher:
    """A search through the real handler; child ids are mapped back to population indices."""

    def __init__(self, index_of: dict[str, int], counter: CandidateCounter) -> None:
        self.index_of = index_of
        self.counter = counter

    def search(self, query: MatchIdentity, truth: int | None) -> SearchResult:
        body = {**as_body(query), "reason": "new_to_service"}
        self.counter.read = 0
        resp = invoke("search", make_event("POST", "/v1/searches", body, caller=SEARCHER))
        if resp.status != 200:
            raise RuntimeError(f"search answered {resp.status}")
        found = resp.json()
        named = tuple(
            self.index_of[s["child_id"]] for s in found["signposts"] if s.get("child_id") in self.index_of
        )
        return SearchResult(
            outcome=found["outcome"],
            named=named,
            candidates_read=self.counter.read,
            keys_queried=len(search_blocking_keys(query)),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=400)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--never", type=int, default=150)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    today = today_in_england()

    pools = NamePools.build(args.seed)
    nhs_taken: set[str] = set()
    spec = PopulationSpec()
    candidates = generate_population(args.children * 2, args.seed, pools, spec, nhs_taken=nhs_taken)
    population = [c for c in candidates if registrable(c, today)][: args.children]
    never_children = [
        c
        for c in generate_population(args.never * 2, args.seed + 1, pools, spec, nhs_taken=nhs_taken)
        if registrable(c, today)
    ][: args.never]

    review_by = (today + dt.timedelta(days=200)).isoformat()
    index_of: dict[str, int] = {}
    enrolled: list[int] = []
    refused: dict[int, int] = {}
    with LocalAws():
        wiring.reset_services()
        counter = CandidateCounter()
        clients.dynamodb().meta.events.register("after-call.dynamodb.BatchGetItem", counter)
        print(f"enrolling {len(population)} children through the register handler…", file=sys.stderr)
        t0 = time.perf_counter()
        for i, child in enumerate(population):
            body = {**as_body(child), "categories": ["child_in_need"], "review_by": review_by}
            if child.other_names:
                body["other_names"] = [
                    {k: v for k, v in (("given_names", n.given_names), ("family_name", n.family_name)) if v}
                    for n in child.other_names
                ]
            resp = invoke("records", make_event("POST", "/v1/children", body, caller=REGISTRAR))
            if resp.status == 201:
                index_of[resp.json()["child_id"]] = i
                enrolled.append(i)
            else:
                refused[resp.status] = refused.get(resp.status, 0) + 1
            if (i + 1) % 250 == 0:
                print(f"  {i + 1}/{len(population)}", file=sys.stderr)
        enrol_seconds = time.perf_counter() - t0

        enrolled_population = [population[i] for i in enrolled]
        remap = dict(enumerate(enrolled))
        queries = [
            Query(identity=q.identity, truth=remap[q.truth] if q.truth is not None else None, errors=q.errors)
            for q in corrupted_queries(enrolled_population, args.queries, args.seed + 2, pools)
        ]
        never = never_enrolled_queries(never_children, args.seed + 3)
        # A corruption can make a query the API refuses (e.g. a year digit that puts the birth in
        # the future): such a search never reaches matching, so it is counted apart, not scored.
        all_queries = [*queries, *never]
        valid = [q for q in all_queries if acceptable(q.identity)]
        refused_queries = len(all_queries) - len(valid)
        print(f"searching {len(queries)} corrupted + {len(never)} never-enrolled…", file=sys.stderr)
        evaluation = evaluate(
            HandlerSearcher(index_of, counter),
            valid,
            progress=lambda n: print(f"  {n} searches", file=sys.stderr) if n % 100 == 0 else None,
        )
    summary = evaluation.summary()
    figures = {
        "path": "register and search handlers on moto (encrypted, HMAC blind indexes)",
        "enrolled": len(enrolled),
        "register_refused": refused,
        "queries_refused_by_validation": refused_queries,
        "registers_per_second": round(len(population) / enrol_seconds, 1),
        # blocking recall is only known in memory (bench_matching.py): the handler does not say
        **{
            k: v for k, v in summary.items() if not k.startswith("keys_per_search") and k != "blocking_recall"
        },
    }
    print("\nReal path (moto):")
    for name in (
        "enrolled",
        "queries_refused_by_validation",
        "register_refused",
        "correct_match_rate",
        "match_or_possible_rate",
        "possible_match_rate",
        "wrong_child_match_rate",
        "never_enrolled_match_rate",
        "candidates_p50",
        "candidates_p99",
        "searches_per_second",
    ):
        print(f"  {name:<28} {figures[name]}")
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
