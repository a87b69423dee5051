"""`python -m infrastructure.local` (what `make local` runs): the API on 127.0.0.1 with in-memory AWS."""

from __future__ import annotations

import os
import signal
import sys
import warnings
from pathlib import Path
from types import FrameType

from infrastructure.local.admin_endpoint import serve_aws
from infrastructure.local.aws import TEMPLATE_PATH, LocalAws
from infrastructure.local.gateway import Gateway
from infrastructure.local.queue import SERVED_STACK_ENV, LocalQueue
from infrastructure.local.queue import attach as attach_queue
from infrastructure.local.routes import load_routes
from infrastructure.local.stream import LocalStream, attach_all
from infrastructure.local.timings import StackTimings, undelivered_intents
from infrastructure.local.timings import write as write_timings


def startup_lines(url: str, aws_port: int | None) -> list[str]:
    """What `make local` prints once it serves (README.md shows the same lines; a test compares)."""
    lines = [
        f"Signpost local stack on {url}  (Ctrl-C stops it)",
        "in-memory AWS (moto, eu-west-2) made from template.yaml; demo directory seeded",
    ]
    if aws_port is not None:
        lines.append(
            f"operator commands: LOCAL_AWS_PORT={aws_port} .venv/bin/signpost-admin --local verify-audit"
        )
    lines.append(f'try it: README.md "Walk-through with curl", in another terminal (API={url})')
    return lines


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


def port_from(value: str | None) -> int | None:
    """PORT as a TCP port number; None if it is not one."""
    raw = (value or "3000").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 65535:
        return None
    return int(raw)


def main() -> int:
    port = port_from(os.environ.get("PORT"))
    if port is None:
        print(
            f"PORT must be a whole number from 1 to 65535, e.g. PORT=8080 (got {os.environ.get('PORT')!r})",
            file=sys.stderr,
        )
        return 2
    # Powertools warns when an invocation emits no metric (the first GET /health does): noise
    # in a newcomer's terminal, not a fault. Only here: in AWS it stays in the function's log.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    # Installed explicitly: a shell starting us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    aws: LocalAws | None = None
    gateway: Gateway | None = None
    streams: list[LocalStream] = []
    queue: LocalQueue | None = None
    timings: StackTimings | None = None
    timings_path = os.environ.get("SIGNPOST_LOCAL_TIMINGS")  # `make load`: where time goes, per route
    admin_aws = None
    try:
        aws = LocalAws(port=port, extra_env=SERVED_STACK_ENV).start()
        gateway = Gateway(aws, load_routes(TEMPLATE_PATH), port=port)
        streams = attach_all(gateway)  # records → notifier, audit → audit sealer
        queue = attach_queue(gateway)  # the import queue → the import worker, in the background
        if timings_path:
            timings = StackTimings().install(gateway)
        try:
            gateway.bind()
        except OSError as exc:
            print(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); set PORT to another", file=sys.stderr)
            return 1
        aws_port = int(os.environ.get("LOCAL_AWS_PORT", str(port + 1)))
        try:
            admin_aws = serve_aws(aws_port)
        except OSError as exc:  # the API still works; only signpost-admin --local does not
            print(f"no AWS endpoint for signpost-admin on port {aws_port} ({exc.strerror})", file=sys.stderr)
        print(
            "\n".join(startup_lines(gateway.url, aws_port if admin_aws else None)),
            file=sys.stderr,
            flush=True,
        )
        gateway.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C, at any point
        print("\nstopping", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        if queue is not None:
            queue.stop()
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
