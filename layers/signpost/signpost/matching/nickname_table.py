"""Nickname equivalence: the maintained `nicknames` list plus a short British supplement.

The `nicknames` package (carltonnorthern's hand-curated English list) is
US-leaning; it lacks diminutives common among children in England (Alfie,
Evie, Izzy...). Those are added from ``data/nicknames_en_gb.csv``, same format.
Both are fixed data shipped with the code, so blocking keys built from them stay
deterministic.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import nicknames

from signpost.matching.normalise import compact, normalise_name

_SUPPLEMENT = "nicknames_en_gb.csv"
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
    for triplet in nicknames.name_triplets():
        if triplet.relationship == _RELATION:
            yield triplet.name1, triplet.name2
    text = resources.files("signpost.matching").joinpath("data", _SUPPLEMENT).read_text(encoding="utf-8")
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
