"""`python -m infrastructure.local` (what `make local` runs): the API on 127.0.0.1 with in-memory AWS."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from infrastructure.local.aws import TEMPLATE_PATH, LocalAws
from infrastructure.local.gateway import Gateway
from infrastructure.local.routes import load_routes
from infrastructure.local.stream import LocalStream
from infrastructure.local.stream import attach as attach_stream


def startup_lines(url: str) -> list[str]:
    """What `make local` prints once it serves (README.md shows the same lines; a test compares)."""
    return [
        f"Signpost local stack on {url}  (Ctrl-C stops it)",
        "in-memory AWS (moto, eu-west-2) made from template.yaml; demo directory seeded",
        f'try it: README.md "Walk-through with curl", in another terminal (API={url})',
    ]


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


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
    # Installed explicitly: a shell starting us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    aws: LocalAws | None = None
    gateway: Gateway | None = None
    stream: LocalStream | None = None
    try:
        aws = LocalAws(port=port).start()
        gateway = Gateway(aws, load_routes(TEMPLATE_PATH), port=port)
        stream = attach_stream(gateway)  # the records table's stream → the notifier
        try:
            gateway.bind()
        except OSError as exc:
            print(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); set PORT to another", file=sys.stderr)
            return 1
        print("\n".join(startup_lines(gateway.url)), file=sys.stderr, flush=True)
        gateway.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C, at any point
        print("\nstopping", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        if gateway is not None:
            gateway.stop()
        if stream is not None:
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
