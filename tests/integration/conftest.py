"""Fixtures for the handler tests against moto (a test file may define its own instead).

- ``aws``: the stack's in-memory AWS (tables, keys, topic, queues, anchor bucket), with the
  process's cached services rebuilt for it;
- ``stream`` / ``audit_stream``: the local DynamoDB streams of the records and the audit table,
  capturing writes for the notifier and the audit sealer; a test flushes them to the function
  when it wants delivery.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from signpost import wiring

from infrastructure.local.aws import LocalAws
from infrastructure.local.stream import AUDIT_SEALER, NOTIFIER, LocalStream


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    """moto with the stack's tables and the demo directory, and services built afresh for it
    (a test module may define its own `aws` with other settings)."""
    with LocalAws() as local:
        wiring.reset_services()
        yield local
    wiring.reset_services()


@pytest.fixture
def stream(aws: LocalAws) -> Iterator[LocalStream]:
    stream = LocalStream(aws, function=NOTIFIER).install()
    yield stream
    stream.uninstall()


@pytest.fixture
def audit_stream(aws: LocalAws) -> Iterator[LocalStream]:
    stream = LocalStream(aws, function=AUDIT_SEALER).install()
    yield stream
    stream.uninstall()
