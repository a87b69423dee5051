"""Nickname equivalence: carltonnorthern's English nickname list plus a short British supplement.

``data/nicknames_us_en.csv`` is the hand-curated list of the `nicknames` project
(https://github.com/carltonnorthern/nicknames, release 1.0.1, Apache-2.0; see
``data/NOTICE``), copied into the package rather than installed, so that no
dependency upgrade can change it. It is US-leaning; it lacks diminutives common
among children in England (Alfie, Evie, Izzy...), which ``data/nicknames_en_gb.csv``
adds in the same format. Blocking keys are built from this table: changing either
file changes keys, which needs a new key scheme version and a re-index
(matching/key_scheme.py; tests/unit/matching/test_key_scheme.py holds their checksums).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from signpost.matching.normalise import compact, normalise_name

NICKNAME_FILES = ("nicknames_us_en.csv", "nicknames_en_gb.csv")
_RELATION = "has_nickname"


@dataclass(frozen=True)
class NicknameTable:
    canonicals: dict[str, frozenset[str]]  # nickname -> formal names it is short for
    nicknames: dict[str, frozenset[str]]  # formal name -> its nicknames

    def canonicals_of(self, name: str) -> frozenset[str]:
        return self.canonicals.get(name, frozenset())

    def nicknames_of(self, name: str) -> frozenset[str]:
        return self.nicknames.get(name, frozenset())

    def related(self, a: str, b: str) -> bool:
        """True when one is a nickname of the other, or both are nicknames of one formal name."""
        if a == b:
            return True
        ca, cb = self.canonicals_of(a), self.canonicals_of(b)
        return b in ca or a in cb or not ca.isdisjoint(cb)


def _pairs() -> Iterable[tuple[str, str]]:
    for name in NICKNAME_FILES:
        text = resources.files("signpost.matching").joinpath("data", name).read_text(encoding="utf-8")
        for row in csv.DictReader(io.StringIO(text)):
            if row["relationship"] == _RELATION:
                yield row["name1"], row["name2"]


@cache
def nickname_table() -> NicknameTable:
    canonicals: defaultdict[str, set[str]] = defaultdict(set)
    nicks: defaultdict[str, set[str]] = defaultdict(set)
    for formal, nick in _pairs():
        f, n = compact(normalise_name(formal)), compact(normalise_name(nick))
        if f and n and f != n:
            canonicals[n].add(f)
            nicks[f].add(n)
    return NicknameTable(
        canonicals={k: frozenset(v) for k, v in canonicals.items()},
        nicknames={k: frozenset(v) for k, v in nicks.items()},
    )
