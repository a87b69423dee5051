"""README.md runs as pasted: the local stack is started as `make local` starts it (on a port of its
own), its start-up lines must be the README's, and every `bash` block runs in order in one shell,
twice, with nothing failing, no empty captured id, and the status codes printed (` → NNN`) exactly
the ones the README's `# → NNN` comments promise. Bounded: each run has a time limit."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.support.readme import ROOT, blocks

pytestmark = pytest.mark.api

RUN_SECONDS = 240
FAILURES = re.compile(
    r"Traceback|command not found|No such file or directory|syntax error|unbound variable|Errno|curl: \(",
)
PRINTED_STATUS = re.compile(r"^ → (\d{3})$", re.MULTILINE)
EMPTY_CAPTURE = re.compile(r"^(\w+)=$", re.MULTILINE)
README_IDENTITIES = ("Amelia", "9434765919", "2015-03-14", "2016-05-09")


@dataclass
class Served:
    url: str
    aws_port: int  # signpost-admin --local's AWS endpoint
    output: list[str] = field(default_factory=list)  # everything the server wrote, line by line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    port, aws_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "LOCAL_AWS_PORT": str(aws_port),
        "PYTHONPATH": os.pathsep.join(["layers/signpost", "."]),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "infrastructure.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    stack = Served(f"http://127.0.0.1:{port}", aws_port)
    assert server.stdout is not None
    stream = server.stdout
    reader = threading.Thread(target=lambda: stack.output.extend(iter(stream.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{stack.url}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, "".join(stack.output)
            assert time.monotonic() < deadline, "the local stack did not answer /health in 90 s"
            time.sleep(0.2)
        yield stack
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
        reader.join(timeout=5)


def test_make_local_starts_the_stack_as_this_test_does() -> None:
    (server,) = [b for b in blocks() if "server" in b.tags]
    assert server.body.split()[:2] == ["make", "local"]
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "local", "PORT=3999"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "PORT=3999 .venv/bin/python -m infrastructure.local" in dry


def test_the_start_up_lines_are_the_readmes(served: Served) -> None:
    (startup,) = [b for b in blocks() if b.language == "text" and "startup" in b.tags]
    expected = (
        startup.body.replace("http://127.0.0.1:3000", served.url)
        .replace("LOCAL_AWS_PORT=3001", f"LOCAL_AWS_PORT={served.aws_port}")
        .splitlines()
    )
    assert [line.rstrip("\n") for line in served.output[: len(expected)]] == expected


def _run_readme(served: Served, scratch: Path, run: int) -> tuple[str, str]:
    script = scratch / f"readme-{run}.sh"
    script.write_text("\n\n".join(b.body for b in blocks() if b.runnable), encoding="utf-8")
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", str(script)],
        cwd=ROOT,
        env={**os.environ, "API": served.url},
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    return done.stdout, done.stderr


def test_every_bash_block_runs_as_pasted_twice(served: Served, tmp_path: Path) -> None:
    promised = [status for b in blocks() if b.runnable for status in b.expected_statuses()]
    assert len(promised) >= 20
    for run in (1, 2):
        stdout, stderr = _run_readme(served, tmp_path, run)
        assert not FAILURES.search(stderr + stdout), f"run {run}:\n{stderr}"
        assert not EMPTY_CAPTURE.findall(stdout), f"run {run}: an id was not captured:\n{stdout}"
        printed = [int(s) for s in PRINTED_STATUS.findall(stderr)]
        assert printed == promised, f"run {run}:\n{stderr}\n{stdout}"
        assert "registered " in stdout  # the client library's example ran
    logs = "".join(served.output)
    assert not [value for value in README_IDENTITIES if value in logs]
    assert "No application metrics to publish" not in logs  # the README says what is printed
