"""The one place logic asks the matcher for a decision over decrypted candidates."""

from __future__ import annotations

from dataclasses import dataclass

from signpost import matching
from signpost.matching import MatchConfig, MatchIdentity
from signpost.models.common import Outcome


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    ranked: list[int]  # indices into the candidates: one for a match, up to three for a possible match


def decide(query: MatchIdentity, candidates: list[MatchIdentity], config: MatchConfig) -> Decision:
    result = matching.decide(query, candidates, config)
    return Decision(Outcome(result.outcome), list(result.ranked))
