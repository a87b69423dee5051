"""Fictional identities shared by tests and benchmarks of blind-index storage."""

from __future__ import annotations

# API.md allows ten other names: long, many-part names make the most blocking keys.
TEN_ALIASES = [
    {"given_names": "Sophie Anne", "family_name": "Hartley-Mensah"},
    {"given_names": "Zosia", "family_name": "Nowak-Kowalczyk"},
    {"family_name": "Van der Berg"},
    {"given_names": "Marie Josephine", "family_name": "Fitzgerald-O'Reilly"},
    {"given_names": "Sofia", "family_name": "Da Silva Santos"},
    {"given_names": "Zara Louise"},
    {"given_names": "Maria Zofia", "family_name": "Adeyemi-Okonkwo"},
    {"family_name": "MacLeod-Achterberg"},
    {"given_names": "Fia", "family_name": "Dos Santos-Popescu"},
    {"given_names": "Sophia Grace", "family_name": "Kowalski"},
]
# Ten other aliases, none sharing a name with the ten above: replacing one set by the other
# changes every alias key at once.
_GIVEN = ["Anna", "Bea", "Cleo", "Dora", "Elin", "Fern", "Gwen", "Hope", "Iris", "Jade"]
_FAMILY = ["Abbott", "Barker", "Cooper", "Dawson", "Ellis", "Fox", "Gardner", "Hobbs", "Ingram", "Jarvis"]
OTHER_TEN_ALIASES = [
    {"given_names": f"{given} Rose", "family_name": f"{family}-Lee"}
    for given, family in zip(_GIVEN, _FAMILY, strict=True)
]
