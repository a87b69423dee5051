"""`python -m infrastructure.local` (what `make local` runs): the API on 127.0.0.1 with in-memory AWS."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from infrastructure.local.admin_endpoint import serve_aws
from infrastructure.local.aws import TEMPLATE_PATH, LocalAws
from infrastructure.local.gateway import Gateway
from infrastructure.local.routes import load_routes
from infrastructure.local.stream import LocalStream, attach_all
from infrastructure.local.timings import StackTimings, undelivered_intents
from infrastructure.local.timings import write as write_timings


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


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _write_timings(path: Path, timings: StackTimings, aws: LocalAws, stream: LocalStream) -> None:
    timings.uninstall()
    client = aws._client("dynamodb")
    stats = stream.stats
    write_timings(
        path,
        timings,
        {
            "notifications": undelivered_intents(client, aws.tables["RecordsTable"]),
            "stream": {
                "delivered": stats.delivered,
                "set_aside": len(stats.set_aside),
                "pending": stream.pending(),
            },
        },
    )


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    # Installed explicitly: a shell starting us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    aws: LocalAws | None = None
    gateway: Gateway | None = None
    streams: list[LocalStream] = []
    timings: StackTimings | None = None
    timings_path = os.environ.get("SIGNPOST_LOCAL_TIMINGS")  # `make load`: where time goes, per route
    admin_aws = None
    try:
        aws = LocalAws(port=port).start()
        gateway = Gateway(aws, load_routes(TEMPLATE_PATH), port=port)
        streams = attach_all(gateway)  # records → notifier, audit → audit sealer
        if timings_path:
            timings = StackTimings().install(gateway)
        try:
            gateway.bind()
        except OSError as exc:
            print(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); set PORT to another", file=sys.stderr)
            return 1
        tables = ", ".join(aws.tables.values())
        aws_port = int(os.environ.get("LOCAL_AWS_PORT", str(port + 1)))
        print(f"Signpost local stack on {gateway.url}  (Ctrl-C stops it)", file=sys.stderr)
        print(f"in-memory AWS (moto, eu-west-2): {tables}; demo directory seeded", file=sys.stderr)
        try:
            admin_aws = serve_aws(aws_port)
            print(
                f"operator commands: LOCAL_AWS_PORT={aws_port} .venv/bin/signpost-admin --local verify-audit",
                file=sys.stderr,
            )
        except OSError as exc:  # the API still works; only signpost-admin --local does not
            print(f"no AWS endpoint for signpost-admin on port {aws_port} ({exc.strerror})", file=sys.stderr)
        print(walkthrough(gateway.url, dt.date.today()), file=sys.stderr)
        gateway.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C, at any point
        print("\nstopping", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        if admin_aws is not None:
            admin_aws.stop()
        if gateway is not None:
            gateway.stop()
        if timings is not None and timings_path and aws is not None and streams:
            _write_timings(Path(timings_path), timings, aws, streams[0])  # the records table's
        for stream in streams:
            stream.uninstall()
        if aws is not None:
            aws.stop()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is stopped by now; skip the interpreter's teardown of moto's and botocore's
    # module graph, which takes seconds after Ctrl-C for nothing.
    os._exit(code)
