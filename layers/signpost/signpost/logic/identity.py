"""A child's identity: sealing it into a record, opening it, and its blind indexes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from signpost.crypto.blind_index import BlindIndexer
from signpost.crypto.envelope import EnvelopeCipher
from signpost.matching import MatchIdentity, Name
from signpost.matching.key_scheme import KEY_SCHEME_VERSION, SCHEMES, key_scheme
from signpost.models.identity import IdentityFields
from signpost.settings import Settings

IDENTITY_FIELDS = (
    "given_names",
    "family_name",
    "date_of_birth",
    "sex",
    "nhs_number",
    "postcode",
    "other_names",
)
NHS_KEY_PREFIX = "nhs:"


def identity_dict(model: IdentityFields) -> dict[str, Any]:
    data = model.model_dump(mode="json", include=set(IDENTITY_FIELDS))
    data.setdefault("other_names", [])
    return data


def seal(cipher: EnvelopeCipher, child_id: str, identity: dict[str, Any]) -> bytes:
    plaintext = json.dumps(identity, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return cipher.encrypt(plaintext, child_id.encode("ascii"))


def open_identity(cipher: EnvelopeCipher, child_id: str, blob: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cipher.decrypt(blob, child_id.encode("ascii")))
    return data


def to_match_identity(identity: dict[str, Any]) -> MatchIdentity:
    return MatchIdentity(
        given_names=identity["given_names"],
        family_name=identity["family_name"],
        date_of_birth=dt.date.fromisoformat(identity["date_of_birth"]),
        sex=identity.get("sex"),
        nhs_number=identity.get("nhs_number"),
        postcode=identity.get("postcode"),
        other_names=tuple(
            Name(given_names=n.get("given_names") or "", family_name=n.get("family_name") or "")
            for n in identity.get("other_names") or []
        ),
    )


def write_version(settings: Settings) -> int:
    """The key scheme version new blocks are written with."""
    return settings.blind_index_write_version or KEY_SCHEME_VERSION


def read_versions(settings: Settings) -> tuple[int, ...]:
    """The key scheme versions searches read: as configured, else every version the code knows
    (so that a new version's release never hides children indexed under the one before)."""
    raw = [v.strip() for v in settings.blind_index_read_versions.split(",") if v.strip()]
    return tuple(dict.fromkeys(int(v) for v in raw)) or tuple(sorted({*SCHEMES, write_version(settings)}))


def record_blocks(
    indexer: BlindIndexer, identity: dict[str, Any], version: int, exclude: Collection[str] = ()
) -> list[str]:
    """The blocks a record is written in under that scheme version (at most MAX_RECORD_KEYS),
    without those known to be full."""
    scheme = key_scheme(version)
    blocks = (indexer.index(scheme.label(k)) for k in scheme.ranked_record_keys(to_match_identity(identity)))
    return [b for b in dict.fromkeys(blocks) if b not in exclude]


@dataclass(frozen=True)
class SearchBlock:
    block: str
    rank: int  # the key's place in the search's keys, most specific first
    nhs: bool  # the NHS number's key: whoever is in it is the likeliest candidate of all


def search_blocks(
    indexer: BlindIndexer, identity: dict[str, Any], versions: Collection[int]
) -> list[SearchBlock]:
    """The blocks a search reads: its keys, most specific first, under every version read."""
    query = to_match_identity(identity)
    out: list[SearchBlock] = []
    for version in versions:
        scheme = key_scheme(version)
        for rank, k in enumerate(scheme.ranked_search_keys(query)):
            out.append(SearchBlock(indexer.index(scheme.label(k)), rank, k.startswith(NHS_KEY_PREFIX)))
    return out


def identity_guard(indexer: BlindIndexer, identity: dict[str, Any], version: int) -> str:
    """The identity guard of normalised names and date of birth (see dal/blocks.py)."""
    scheme = key_scheme(version)
    return indexer.index(scheme.label(scheme.identity_guard_key(to_match_identity(identity))))


def nhs_index(indexer: BlindIndexer, identity: dict[str, Any]) -> str | None:
    """The NHS number's own blind index: the guard against two active records of one child.

    Not versioned with the key scheme: it must stay one value per NHS number across a re-index
    (it depends on the ten digits only, never on normalisation, nicknames or phonetics).
    """
    nhs = identity.get("nhs_number")
    return indexer.index("guard:" + NHS_KEY_PREFIX + nhs) if nhs else None
