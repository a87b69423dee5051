"""Fixtures of the handler tests on moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from signpost import wiring

from infrastructure.local.aws import LocalAws


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    """moto with the stack's tables and the demo directory, and services built afresh for it
    (a test module may define its own `aws` with other settings)."""
    with LocalAws() as local:
        wiring.reset_services()
        yield local
    wiring.reset_services()
