"""`make local` refuses a PORT that is not a port, with a message that says what to set."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from infrastructure.local.__main__ import port_from
from tests.support.readme import ROOT

FULL_WIDTH_3000 = "\uff13\uff10\uff10\uff10"


@pytest.mark.parametrize("port", ["abc", "0", "70000", "80 80", "-1", FULL_WIDTH_3000])
def test_make_refuses_a_port_that_is_not_one(port: str) -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "check-port", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "PORT must be a whole number from 1 to 65535" in done.stderr


def test_make_accepts_a_port() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "check-port", "PORT=8080"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0


@pytest.mark.parametrize(
    ("value", "port"), [(None, 3000), ("8080", 8080), (" 3001 ", 3001), ("x", None), ("0", None)]
)
def test_the_server_reads_port_the_same_way(value: str | None, port: int | None) -> None:
    assert port_from(value) == port


def test_the_server_says_what_is_wrong_with_port() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infrastructure.local"],
        cwd=ROOT,
        env={**os.environ, "PORT": "http"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "PORT must be a whole number from 1 to 65535" in done.stderr
