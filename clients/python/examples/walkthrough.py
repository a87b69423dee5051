"""The README's walk-through with the client library: register, search, read the access log.

Run it against `make local` (another terminal): `.venv/bin/python clients/python/examples/walkthrough.py`
(SIGNPOST_URL overrides http://127.0.0.1:3000). It makes up a new child each run, so it can be run
again and again.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # signpost_client, from this checkout

from signpost_client import ProblemError, SignpostClient, dev_token
from signpost_client.models import RegisterRequest, SearchRequest

URL = os.environ.get("SIGNPOST_URL", "http://127.0.0.1:3000")


def main() -> int:
    camden = SignpostClient(URL, dev_token(URL, "E09000007", "la_practitioner", "camden-sw-1"))
    nurse = SignpostClient(URL, dev_token(URL, "RAL", "health", "rf-nurse-1"))
    hackney = SignpostClient(URL, dev_token(URL, "E09000012", "la_practitioner", "hackney-sw-1"))
    rng = random.Random()  # noqa: S311 - a made-up child each run, not a secret
    given, family = (
        "Isla",
        "".join(rng.choice("bcdfglmnprst") + rng.choice("aeiou") for _ in range(3)).title(),
    )
    born = str(dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(3000)))
    review_by = str(dt.date.today() + dt.timedelta(days=180))
    child: RegisterRequest = {
        "given_names": given,
        "family_name": family,
        "date_of_birth": born,
        "categories": ["child_in_need"],
        "review_by": review_by,
    }

    created = camden.register_child(child)
    print(f"registered {created['child_id']} at {created['organisation']['name']}")

    query: SearchRequest = {
        "given_names": given,
        "family_name": family,
        "date_of_birth": born,
        "reason": "emergency_care",
    }
    found = nurse.search(query)
    contact = found["signposts"][0]["contact"]
    print(f"the Royal Free's search: {found['outcome']}; call {contact['team']} on {contact['phone']}")

    try:
        hackney.register_child(child)
    except ProblemError as duplicate:
        where = duplicate.signposts[0]["organisation"]["code"]
        print(f"Hackney registering the same child: {duplicate.status} {duplicate.title}; known at {where}")

    for entry in camden.iter_access_log(created["child_id"]):
        print(f"access log: {entry['at']} {entry['org']} {entry['action']} {entry.get('outcome', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
