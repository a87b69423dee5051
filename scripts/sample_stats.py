"""A month of synthetic activity on the local stack, then `signpost-admin stats` for it.

    python scripts/sample_stats.py [--month 2026-11] [--out docs/stats-sample]   (make stats-sample)

Everything goes through the real handlers on the in-memory AWS of the local stack, with
the services' clock frozen at each event's moment: registrations, searches by every kind
of organisation (some of children nobody registered), transfers answered on time, late or
not at all, closures, break-glass (one use reviewed afterwards) and subject access
reports. The children are invented (fixed seed), so the output is the same every run
except for the generated_at line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from signpost import admin, wiring  # noqa: E402
from signpost.logic.services import LONDON  # noqa: E402

from infrastructure.local.aws import LocalAws  # noqa: E402
from tests.support.lambda_events import caller, invoke, make_event  # noqa: E402

AUTHORITIES = {"E09000007": "camden", "E09000012": "hackney", "E08000025": "birmingham"}
SEARCHERS = [
    ("RAL", "health", "emergency_care"),
    ("RAL-SH1", "health", "safeguarding_concern"),
    ("URN-100050", "education", "new_to_service"),
    ("E09000012", "la_practitioner", "referral"),
    ("E08000025", "la_practitioner", "safeguarding_concern"),
]
GIVEN = ["Amara", "Bilal", "Chloe", "Dmitri", "Esme", "Farah", "Gideon", "Hana", "Idris", "Jasmine", "Kofi",
         "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera", "Wren",
         "Xander", "Yusuf", "Zara"]  # fmt: skip
FAMILY = ["Abbott", "Bello", "Carvalho", "Dahl", "Eze", "Fischer", "Grant", "Hussain", "Ivanova", "Jones",
          "Kowalski", "Lindqvist", "Mensah", "Novak", "Okafor", "Patel", "Quigley", "Rahman", "Silva",
          "Tanaka"]  # fmt: skip
CATEGORIES = ["looked_after", "child_protection_plan", "child_in_need", "domestic_abuse"]
Child = tuple[str, str, dict[str, str]]  # (child_id, responsible organisation, identity)


class Month:
    def __init__(self, label: str) -> None:
        first = dt.date.fromisoformat(f"{label}-01")
        self.label = label
        self.start = dt.datetime.combine(first, dt.time(8), tzinfo=LONDON)
        self.days = ((first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - first).days

    def moment(self, rng: random.Random) -> dt.datetime:
        at = self.start + dt.timedelta(days=rng.randrange(self.days), minutes=rng.randrange(600))
        return at.astimezone(dt.UTC)


def freeze(at: dt.datetime) -> None:
    wiring.services().now = lambda: at


def call(function: str, method: str, path: str, body: Any, who: Any) -> Any:
    response = invoke(function, make_event(method, path, body, caller=who))
    if response.status >= 500:
        raise RuntimeError(f"{method} {path}: {response.status}")
    return response


def simulate(month: Month, rng: random.Random) -> None:
    children: list[Child] = []  # (child_id, org, identity)
    shielded_children: list[Child] = []
    events: list[tuple[dt.datetime, str, int]] = []
    for i in range(48):
        events.append((month.moment(rng), "register", i))
    events.sort()
    review_by = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    for at, _, i in events:
        freeze(at)
        org = list(AUTHORITIES)[i % 3] if i % 7 else "E09000007"
        identity = {
            "given_names": GIVEN[i % len(GIVEN)],
            "family_name": f"{FAMILY[i % len(FAMILY)]}-{FAMILY[(i * 7 + 3) % len(FAMILY)]}",
            "date_of_birth": (dt.date(2009, 1, 1) + dt.timedelta(days=97 * i + 11)).isoformat(),
        }
        shielded = {"shielding": {"reason": "refuge"}} if i in (5, 17) else {}
        role = "la_manager" if shielded else "la_practitioner"
        body = {
            **identity,
            "categories": rng.sample(CATEGORIES, 1 + (i % 5 == 0)),
            "review_by": review_by,
            **shielded,
        }
        created = call(
            "records", "POST", "/v1/children", body, caller(org, role, f"{AUTHORITIES[org]}-sw-{i % 4}")
        )
        if created.status == 201:
            children.append((created.json()["child_id"], org, identity))
            if shielded:
                shielded_children.append(children[-1])

    searches = _searches(month, rng, children)
    _break_glass(month, rng, shielded_children)
    _transfers(month, children)
    _closures_and_reports(month, rng, children)
    print(
        f"simulated {len(children)} registrations and {searches} searches in {month.label}", file=sys.stderr
    )


def _searches(month: Month, rng: random.Random, children: list[Child]) -> int:
    searches = 0
    for n in range(160):
        freeze(month.moment(rng))
        org, role, reason = SEARCHERS[n % len(SEARCHERS)]
        if n % 9 == 0:
            org, role, reason = "E23000001", "police", "police_enquiry"
        _child_id, _owner, identity = children[rng.randrange(len(children))]
        body: dict[str, Any] = dict(identity)
        if n % 4 == 0:  # a child nobody registered
            body = {**body, "given_names": "Unknown", "date_of_birth": "2016-06-06"}
        elif n % 11 == 0:  # a typing slip: possibly this child
            body = {**body, "given_names": body["given_names"][:-1] + "x"}
        body["reason"] = reason
        if role == "police":
            body["case_reference"] = f"CAD-{n}/26"
        result = call("search", "POST", "/v1/searches", body, caller(org, role, f"{org.lower()}-{n % 6}"))
        searches += result.status == 200
    return searches


def _break_glass(month: Month, rng: random.Random, shielded: list[Child]) -> None:
    """A manager of the searching authority reveals each shielded child."""
    for child in shielded:
        freeze(month.moment(rng))
        found = call("search", "POST", "/v1/searches", {**child[2], "reason": "safeguarding_concern"},
                     caller("E09000012", "la_practitioner", "hackney-sw-9")).json()  # fmt: skip
        justification = "Child arrived at A&E with a carer out of hours; we need the responsible manager now."
        path = f"/v1/searches/{found['search_id']}/break-glass"
        call(
            "search",
            "POST",
            path,
            {"justification": justification},
            caller("E09000012", "la_manager", "mgr-1"),
        )


def _transfers(month: Month, children: list[Child]) -> None:
    """Transfers answered on time, late, declined, or not at all."""
    for k, (child_id, org, _) in enumerate(children[:9]):
        requested = month.start.astimezone(dt.UTC) + dt.timedelta(days=2 + 2 * k)
        freeze(requested)
        to_org = next(o for o in AUTHORITIES if o != org)
        move = {"to_org": to_org, "reason": "family_moved", "move_date": dt.date.today().isoformat()}
        transfer = call(
            "transfers",
            "POST",
            f"/v1/children/{child_id}/transfers",
            move,
            caller(org, "la_practitioner", "sw"),
        )
        if transfer.status != 201:
            continue
        transfer_id, receiver = transfer.json()["transfer_id"], caller(to_org, "la_practitioner", "duty")
        if k % 4 == 3:
            continue  # never answered
        late = k % 3 == 2
        freeze(requested + dt.timedelta(days=4 if late else 0, hours=3))
        call("transfers", "POST", f"/v1/transfers/{transfer_id}/acknowledge", None, receiver)
        freeze(requested + dt.timedelta(days=24 if late else 6))
        decision = "decline" if k % 5 == 4 else "accept"
        body = {"reason": "not_resident"} if decision == "decline" else None
        call("transfers", "POST", f"/v1/transfers/{transfer_id}/{decision}", body, receiver)


def _closures_and_reports(month: Month, rng: random.Random, children: list[Child]) -> None:
    for k, (child_id, org, _) in enumerate(children[-7:]):
        freeze(month.moment(rng))
        reason = ["plan_ended", "reached_adulthood", "moved_abroad", "plan_ended", "registered_in_error"][
            k % 5
        ]
        call(
            "records",
            "POST",
            f"/v1/children/{child_id}/close",
            {"reason": reason},
            caller(org, "la_practitioner", "sw"),
        )
    for child_id, org, _ in children[10:13]:
        freeze(month.moment(rng))
        call(
            "records",
            "GET",
            f"/v1/children/{child_id}/subject-access-report",
            None,
            caller(org, "la_manager", "mgr"),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "stats-sample")
    args = parser.parse_args(argv)
    month = Month(args.month)
    with LocalAws():
        wiring.reset_services()
        simulate(month, random.Random(20261101))
        pending = io.StringIO()
        admin.main(["break-glass", "pending", "--since", f"{args.month}-01", "--json"], out=pending)
        import json  # noqa: PLC0415

        first = json.loads(pending.getvalue())[:1]
        for use in first:  # an auditor reviews one of the month's uses
            admin.main(
                ["break-glass", "review", use["search_id"], "--finding", "justified"], out=io.StringIO()
            )
        return admin.main(["stats", "--month", args.month, "--out", str(args.out)])


if __name__ == "__main__":
    sys.exit(main())
