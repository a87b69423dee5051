"""How common a name is: agreement on a rare name says more than agreement on a common one.

The table (``data/name_frequencies.json``) holds the share of children with each of the
commoner first given names and family names, and one share for every other name. It is
derived by ``scripts/train_matching.py`` from the training population, whose names are
drawn from published name lists (ONS baby-name rankings, the commonest British surnames
with their population shares); only names carried by at least ``min_share`` of children
are listed, so it holds no name that could single a child out, and nothing from the
register. It is read once, on the first comparison that needs it, so importing the
matcher stays cheap.

With it, an exact agreement on a name weighs log2(m / frequency) instead of log2(m / u)
(Splink's term-frequency adjustment), bounded so it never leaves the range between the
weight of the commonest name and that of a name outside the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

_TABLE = "name_frequencies.json"


@dataclass(frozen=True)
class NameFrequencies:
    given: dict[str, float]  # normalised first given name -> share of children
    family: dict[str, float]  # compact normalised family name -> share of children
    given_other: float  # the expected share for a first name not in the table
    family_other: float

    def of_given(self, first: str) -> float:
        return self.given.get(first, self.given_other)

    def of_family(self, compact: str) -> float:
        return self.family.get(compact, self.family_other)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> NameFrequencies:
        given, family = data["given"], data["family"]
        assert isinstance(given, dict)
        assert isinstance(family, dict)
        return cls(
            given={str(k): float(v) for k, v in given.items()},
            family={str(k): float(v) for k, v in family.items()},
            given_other=float(data["given_other"]),  # type: ignore[arg-type]
            family_other=float(data["family_other"]),  # type: ignore[arg-type]
        )


@cache
def name_frequencies() -> NameFrequencies:
    """The packaged table, read on first use."""
    raw = resources.files("signpost.matching").joinpath("data", _TABLE).read_text(encoding="utf-8")
    return NameFrequencies.from_json(json.loads(raw))
