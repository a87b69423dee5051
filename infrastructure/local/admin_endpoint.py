"""The local stack's in-memory AWS over HTTP, for `signpost-admin --local` in another terminal.

moto's threaded server answers from the same in-process state the gateway's handlers
use, so an operator command sees (and changes) exactly what the local API does.
Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import logging

from moto.server import ThreadedMotoServer


def serve_aws(port: int) -> ThreadedMotoServer:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per AWS call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server
