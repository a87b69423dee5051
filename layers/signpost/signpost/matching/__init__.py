"""Record linkage for Signpost: normalisation, blocking keys, Fellegi-Sunter scoring, decisions.

Pure functions over plain values: no AWS, no I/O beyond reading the packaged
nickname lists once. The crypto layer HMACs the blocking keys; logic decrypts the
candidates those keys find and calls :func:`decide`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported at once: `nickname_table` is also a module's name, and importing that module (as
# blocking does) would otherwise leave the module, not the function, under this name.
from signpost.matching.nickname_table import NicknameTable, nickname_table

if TYPE_CHECKING:
    from signpost.matching.blocking import ranked_search_keys, record_blocking_keys, search_blocking_keys
    from signpost.matching.config import DEFAULT, LevelProbability, MatchConfig, load_match_config
    from signpost.matching.normalise import normalise_name
    from signpost.matching.scoring import classify, decide, score
    from signpost.matching.types import Decision, MatchIdentity, MatchScore, Name, NhsComparison, Outcome

# Each name is imported from its module on first use: functions that only read the match
# configuration (inbox, transfers, clock, notifier...) never load the scoring, phonetic and
# string-distance libraries (~35 ms of a cold start).
_MODULE_OF = {
    **dict.fromkeys(("ranked_search_keys", "record_blocking_keys", "search_blocking_keys"), "blocking"),
    **dict.fromkeys(("DEFAULT", "LevelProbability", "MatchConfig", "load_match_config"), "config"),
    "normalise_name": "normalise",
    **dict.fromkeys(("classify", "decide", "score"), "scoring"),
    **dict.fromkeys(("Decision", "MatchIdentity", "MatchScore", "Name", "NhsComparison", "Outcome"), "types"),
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'signpost.matching' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"signpost.matching.{module}"), name)
    globals()[name] = value
    return value


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
