"""What every `signpost-admin` command shares: its entry in the registry, exit codes, progress.

A command is a name, a one-line help, a function that adds its arguments to its
own parser, and a function that runs it and returns the exit code. admin.py lists
them; adding a command is one line there. Commands print results to `out`
(stdout) and progress to stderr, so `signpost-admin stats ... > file` stays clean.
Nothing a command prints may quote a child's identity.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

EXIT_OK = 0
EXIT_PROBLEMS = 1  # the command ran and found something wrong (a broken audit chain, a failed check)
EXIT_USAGE = 2  # bad input (a file that does not validate, a bad option): nothing was changed
EXIT_FAILED = 3  # the command could not finish (AWS unreachable, access denied)

Runner = Callable[[argparse.Namespace, TextIO], int]
Configure = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Configure
    run: Runner
    description: str = ""


class Progress:
    """Progress of a long command on stderr: at most one line a second, and a last line when done."""

    def __init__(self, what: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.what = what
        self.total = total
        self.done = 0
        self._stream = stream
        self._last = 0.0

    def step(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._last >= 1.0:
            self._last = now
            self._write()

    def finish(self) -> None:
        self._write(final=True)

    def _write(self, final: bool = False) -> None:
        stream = self._stream or sys.stderr
        of = f"/{self.total}" if self.total is not None else ""
        stream.write(f"{self.what}: {self.done}{of}{' done' if final else ''}\n")
        stream.flush()


def actions(parser: argparse.ArgumentParser, **helps: str) -> dict[str, argparse.ArgumentParser]:
    """A command's actions (`directory diff|apply`), each with its own --help; the choice is `args.action`."""
    choices = parser.add_subparsers(dest="action", required=True, metavar="{" + ",".join(helps) + "}")
    return {name: choices.add_parser(name, help=text, description=text) for name, text in helps.items()}
