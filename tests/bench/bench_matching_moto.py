"""Matching benchmark through the real code path: register and search handlers on moto.

    python tests/bench/bench_matching_moto.py [--children 400] [--queries 400] [--never 150] [--febrl 80]

A seeded synthetic population (matching_population.py), households with twins, and the
first people of each FEBRL data set 1-3 (matching_worlds.py) are enrolled through the
real register handler (validation, duplicate check, envelope encryption, blind indexes,
one transaction) against moto, then searched through the real search handler, world by
world as in the in-memory benchmark: corrupted copies, FEBRL duplicates, real-world
changes, twins and siblings, and children who were never enrolled. Both twins of every
pair must register (the duplicate check must not take one for the other). Candidates
read per search are counted from the records BatchGetItem answers (a botocore hook).
The last line is one JSON object. The in-memory benchmark (bench_matching.py) covers 500,000 children;
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

from bench_matching import misses, nhs_for_febrl, print_summary, world_figures  # noqa: E402
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
from matching_worlds import (  # noqa: E402
    FEBRL_SETS,
    FebrlRow,
    World,
    febrl_file,
    febrl_world,
    households,
    read_febrl,
    real_world_queries,
    twin_sibling_queries,
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


def febrl_subset(number: int, entities: int) -> list[FebrlRow]:
    """The first ``entities`` people of a FEBRL data set (their original and duplicates)."""
    rows = read_febrl(febrl_file(number))
    keep = sorted({r.entity for r in rows if r.original}, key=int)[:entities]
    wanted = set(keep)
    return [r for r in rows if r.entity in wanted]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=400)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--never", type=int, default=150)
    parser.add_argument("--febrl", type=int, default=80, help="people taken from each FEBRL data set")
    parser.add_argument("--real-world", type=int, default=300)
    parser.add_argument("--twin-households", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    today = today_in_england()

    pools = NamePools.build(args.seed)
    nhs_taken: set[str] = set()
    spec = PopulationSpec()
    candidates = generate_population(args.children * 2, args.seed, pools, spec, nhs_taken=nhs_taken)
    population = [c for c in candidates if registrable(c, today)][: args.children]
    synthetic_count = len(population)
    # Households where the first two children are twins, so that registering both twins is tried.
    twin_spec = PopulationSpec(twin_share=0.5, mean_children=2.5)
    twin_households = generate_population(
        args.twin_households * 3, args.seed + 7, pools, twin_spec, nhs_taken=nhs_taken
    )
    population += [c for c in twin_households if registrable(c, today)]
    household_count = len(population)
    never_children = [
        c
        for c in generate_population(args.never * 2, args.seed + 1, pools, spec, nhs_taken=nhs_taken)
        if registrable(c, today)
    ][: args.never]
    febrl: dict[str, World] = {}
    for number in FEBRL_SETS:
        febrl[f"febrl{number}"] = febrl_world(
            number,
            population,
            nhs_for_febrl(nhs_taken),  # type: ignore[arg-type]
            args.seed + 10 + number,
            rows=febrl_subset(number, args.febrl),
        )

    review_by = (today + dt.timedelta(days=200)).isoformat()
    index_of: dict[str, int] = {}
    enrolled: set[int] = set()
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
                enrolled.add(i)
            else:
                refused[resp.status] = refused.get(resp.status, 0) + 1
            if (i + 1) % 250 == 0:
                print(f"  {i + 1}/{len(population)}", file=sys.stderr)
        enrol_seconds = time.perf_counter() - t0

        twins = [
            run[:2]
            for run in households(population, household_count)
            if len(run) >= 2 and population[run[0]].date_of_birth == population[run[1]].date_of_birth
        ]
        twins_refused = sum(1 for pair in twins for i in pair if i not in enrolled)

        def enrolled_only(queries: list[Query]) -> list[Query]:
            return [q for q in queries if q.truth is None or q.truth in enrolled]

        worlds: dict[str, list[Query]] = {
            "synthetic": [
                *enrolled_only(
                    corrupted_queries(population[:synthetic_count], args.queries, args.seed + 2, pools)
                ),
                *never_enrolled_queries(never_children, args.seed + 3),
            ],
            **{name: enrolled_only(world.queries) for name, world in febrl.items()},
            "real_world": enrolled_only(
                real_world_queries(population, args.real_world, args.seed + 4, pools, limit=synthetic_count)
            ),
            "twins_siblings": [
                q
                for q in twin_sibling_queries(population, 200, args.seed + 6, pools, limit=household_count)
                if q.truth in enrolled and q.sibling in enrolled
            ],
        }
        figures: dict[str, dict[str, object]] = {}
        refused_queries: dict[str, int] = {}
        searcher = HandlerSearcher(index_of, counter)
        for name, queries in worlds.items():
            # A corruption can make a query the API refuses (e.g. a year digit that puts the birth in
            # the future): such a search never reaches matching, so it is counted apart, not scored.
            valid = [q for q in queries if acceptable(q.identity)]
            refused_queries[name] = len(queries) - len(valid)
            print(f"searching {name}: {len(valid)}…", file=sys.stderr)
            evaluation = evaluate(searcher, valid)
            unsearchable = febrl[name].unsearchable if name in febrl else 0
            figures[name] = {
                k: v
                for k, v in world_figures(evaluation, unsearchable).items()
                if k not in ("by_kind", "blocking_recall")  # the handler does not say what blocking found
            }
            figures[name]["queries_refused_by_validation"] = refused_queries[name]

    print("\nReal path (moto): register and search handlers, encrypted records, HMAC blind indexes")
    print(
        f"  enrolled {len(enrolled)} of {len(population)} (refused: {refused}); twins: {len(twins)} pairs, "
        f"{twins_refused} twin registrations refused"
    )
    print_summary(figures)
    failed = {name: misses(f) for name, f in figures.items()}
    if twins_refused:
        failed.setdefault("twins_siblings", []).append(f"{twins_refused} twin registrations refused")
    for name, problems in failed.items():
        print(f"  {name:<16} {'targets met' if not problems else 'MISSED: ' + '; '.join(problems)}")
    result = {
        "path": "register and search handlers on moto (encrypted, HMAC blind indexes)",
        "enrolled": len(enrolled),
        "register_refused": refused,
        "twin_pairs": len(twins),
        "twin_registrations_refused": twins_refused,
        "registers_per_second": round(len(population) / enrol_seconds, 1),
        "worlds": figures,
        "targets_met": not any(failed.values()),
    }
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
