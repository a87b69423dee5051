"""Fixtures shared by every test. Helpers to import: tests/support/.

- ``local_aws`` (per test): moto with the stack's tables, KMS keys and topic, the
  demo directory seeded and the environment of DESIGN.md set (~0.15 s).
- ``local_stack`` (per module): the API over HTTP on 127.0.0.1 (gateway emulator,
  authorizer and handlers in-process) with its own in-memory AWS; every response to
  ``local_stack.request`` is validated against the OpenAPI document it serves.
- ``log_capture`` (per test): a copy of everything written to stdout/stderr/logging.

moto's state is process-wide, so a test uses ``local_aws`` or ``local_stack``, not both
(``local_stack.aws`` is the stack's LocalAws, for looking into its tables).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infrastructure.local.aws import LocalAws
from tests.support.conformance import Conformance
from tests.support.logcapture import LogCapture
from tests.support.stack import LocalStack, running_stack

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "AWS_REGION": "eu-west-2",
}


@pytest.fixture(scope="session", autouse=True)
def _no_real_aws() -> Iterator[None]:
    """Even a test without moto can never reach a real account with real credentials."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _FAKE_AWS_ENV.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        yield


@pytest.fixture
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws


# One validator for the session, built from the document the first stack serves.
_CONFORMANCE: list[Conformance] = []


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStack]:
    """Every response a test gets through ``local_stack.request`` is validated against the served
    OpenAPI document (tests/support/conformance.py): one that does not conform fails that test."""
    with running_stack() as stack:
        if not _CONFORMANCE:
            _CONFORMANCE.append(Conformance(stack.served_document()))
        stack.conformance = _CONFORMANCE[0]
        yield stack


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _CONFORMANCE:
        terminalreporter.write_line(_CONFORMANCE[0].summary())


@pytest.fixture
def log_capture() -> Iterator[LogCapture]:
    capture = LogCapture().start()
    try:
        yield capture
    finally:
        capture.stop()
