"""The fenced blocks of README.md, as tests/api/test_readme.py runs them.

A block's info string is its language and optional tags: `bash` (run in order, twice), `bash server`
(starts the local stack), `bash long` (runs as pasted but takes minutes or needs an AWS account:
only its make targets are checked), `text startup` (the lines `make local` prints), `text` (output).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
EXPECTED_STATUS = re.compile(r"#\s*→\s*(\d{3})\b")


@dataclass(frozen=True)
class Block:
    language: str
    tags: frozenset[str]
    body: str
    line: int  # where it starts in the README

    @property
    def runnable(self) -> bool:
        return self.language == "bash" and not self.tags

    def expected_statuses(self) -> list[int]:
        """The `# → NNN` promises of its comments, in order."""
        return [int(found) for found in EXPECTED_STATUS.findall(self.body)]


def blocks(text: str | None = None) -> list[Block]:
    text = README.read_text(encoding="utf-8") if text is None else text
    found = []
    for match in _FENCE.finditer(text):
        words = match.group(1).split()
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(words[0] if words else "", frozenset(words[1:]), match.group(2), line))
    return found


def make_targets() -> set[str]:
    """The targets `make help` lists (those with a `## ` description)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):.*## ", text, re.MULTILINE))
