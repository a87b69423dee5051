"""`python -m infrastructure.local` (what `make local` runs): the API on 127.0.0.1 with in-memory AWS."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from types import FrameType

from infrastructure.local.aws import TEMPLATE_PATH, LocalAws
from infrastructure.local.gateway import Gateway
from infrastructure.local.routes import load_routes


def _token_command(url: str, org: str, role: str, sub: str) -> str:
    body = f'{{"org":"{org}","role":"{role}","sub":"{sub}"}}'
    return (
        f"curl -s -X POST {url}/dev/token -H 'Content-Type: application/json' -d '{body}'"
        " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    )


def walkthrough(url: str, today: dt.date) -> str:
    """Lines a newcomer can paste: a Camden token, a registration, a search from the Royal Free."""
    review_by = (today + dt.timedelta(days=180)).isoformat()
    child = '"given_names":"Amelia","family_name":"Example","date_of_birth":"2015-03-14"'
    json_header = "-H 'Content-Type: application/json'"
    return f"""
# 1. a token for a Camden social worker
TOKEN=$({_token_command(url, "E09000007", "la_practitioner", "camden-sw-1")})

# 2. register a child as Camden
curl -s -X POST {url}/v1/children -H "Authorization: Bearer $TOKEN" {json_header} \\
  -d '{{{child},"categories":["child_protection_plan"],"review_by":"{review_by}"}}'

# 3. look the child up from the Royal Free (health)
HEALTH=$({_token_command(url, "RAL", "health", "rf-nurse-1")})
curl -s -X POST {url}/v1/searches -H "Authorization: Bearer $HEALTH" {json_header} \\
  -d '{{{child},"reason":"safeguarding_concern"}}'
"""


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    aws = LocalAws(port=port).start()
    gateway = Gateway(aws, load_routes(TEMPLATE_PATH), port=port)
    try:
        gateway.bind()
    except OSError as exc:
        aws.stop()
        print(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); set PORT to another port", file=sys.stderr
        )
        return 1
    tables = ", ".join(aws.tables.values())
    print(f"Signpost local stack on {gateway.url}  (Ctrl-C stops it)", file=sys.stderr)
    print(f"in-memory AWS (moto, eu-west-2): {tables}; demo directory seeded", file=sys.stderr)
    print(walkthrough(gateway.url, dt.date.today()), file=sys.stderr)
    try:
        gateway.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping", file=sys.stderr)
    finally:
        gateway.stop()
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
