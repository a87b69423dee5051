"""A child's identity: sealing it into a record, opening it, and its blind indexes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from signpost.crypto.blind_index import BlindIndexer
from signpost.crypto.envelope import EnvelopeCipher
from signpost.matching import MatchIdentity, Name, record_blocking_keys, search_blocking_keys
from signpost.models.identity import IdentityFields

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


def record_indexes(indexer: BlindIndexer, identity: dict[str, Any]) -> set[str]:
    return indexer.indexes(record_blocking_keys(to_match_identity(identity)))


def search_indexes(indexer: BlindIndexer, identity: dict[str, Any]) -> set[str]:
    return indexer.indexes(search_blocking_keys(to_match_identity(identity)))


def nhs_index(indexer: BlindIndexer, identity: dict[str, Any]) -> str | None:
    """The NHS number's own blind index: the guard against two active records of one child."""
    nhs = identity.get("nhs_number")
    return indexer.index("guard:" + NHS_KEY_PREFIX + nhs) if nhs else None
