"""Record linkage for Signpost: normalisation, blocking keys, Fellegi-Sunter scoring, decisions.

Pure functions over plain values: no AWS, no I/O beyond reading the packaged
nickname lists once. The crypto layer HMACs the blocking keys; logic decrypts the
candidates those keys find and calls :func:`decide`.
"""

from signpost.matching.blocking import ranked_search_keys, record_blocking_keys, search_blocking_keys
from signpost.matching.config import DEFAULT, LevelProbability, MatchConfig, load_match_config
from signpost.matching.nickname_table import NicknameTable, nickname_table
from signpost.matching.normalise import normalise_name
from signpost.matching.scoring import classify, decide, score
from signpost.matching.types import Decision, MatchIdentity, MatchScore, Name, NhsComparison, Outcome

__all__ = [
    "DEFAULT",
    "Decision",
    "LevelProbability",
    "MatchConfig",
    "MatchIdentity",
    "MatchScore",
    "Name",
    "NhsComparison",
    "NicknameTable",
    "Outcome",
    "classify",
    "decide",
    "load_match_config",
    "nickname_table",
    "normalise_name",
    "ranked_search_keys",
    "record_blocking_keys",
    "score",
    "search_blocking_keys",
]
