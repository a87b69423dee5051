"""The blind-index key scheme: which keys a record is written under and a search reads, by version.

A blocking key is a pure function of an identity, the code of :mod:`blocking` and
:mod:`normalise`, the packaged nickname lists (``data/``) and jellyfish's metaphone.
Change any of them and some enrolled children stop meeting their searches under
some key. So every key is labelled with the version of the scheme that made it
(``v<N>|`` before it is HMACed: :meth:`KeyScheme.label`), a child record lists the
block keys it holds per version, and a change of scheme is a re-index:

1. bump :data:`KEY_SCHEME_VERSION` and register the new :class:`KeyScheme` in
   :data:`SCHEMES`, keeping the previous one registered while records hold its keys
   (searches read every registered version unless configured otherwise). A new key
   family may leave the old entry pointing at the same functions (the new family's
   keys are simply absent from the old blocks); a change to an existing family, to
   normalisation or to the nickname data needs the old entry to keep the old code
   and data (a frozen copy), or searches miss those keys until the re-index is done;
2. deploy: new blocks are written with the new version, searches read both;
3. ``signpost-admin reindex --to <new>`` writes every child's new keys beside the old;
4. set ``BLIND_INDEX_READ_VERSIONS=<new>``, then ``signpost-admin reindex --drop <old>``,
   then unregister the old version.

tests/unit/matching/test_key_scheme.py pins what the current version depends on
(checksums of the nickname files, metaphone codes of a fixed word list, the keys of
a fixed identity): if one of those tests fails, the scheme changed, and the version
must change with it.

Records are written under at most :data:`MAX_RECORD_KEYS` keys, whatever the
number of aliases, so that registering, correcting or closing a child stays far
inside DynamoDB's 100 items per transaction (a correction replaces at most every
key: twice the cap).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from signpost.matching.blocking import ranked_search_keys, record_blocking_keys
from signpost.matching.normalise import compact, normalise_name
from signpost.matching.types import MatchIdentity

# The version of the scheme new keys are written with. Bump it with any change to what a key is
# made of (a key family added or changed, normalisation, nickname data, phonetic codes).
KEY_SCHEME_VERSION = 2

# Keys per record and version. The primary name's first PRIMARY_KEYS keys always; then the
# primary name's other keys and each alias's keys in turn, one at a time, most useful first.
MAX_RECORD_KEYS = 32
PRIMARY_KEYS = 16

# Most specific key families first; a family this list does not know comes after all of them.
FAMILY_ORDER = ("nhs", "pd", "nd", "pn", "ci", "ym", "nn", "di", "nm")
# Version 1's key families; version 2 added ym (year and month), di (DOB + family initial) and
# nm (both whole names) and changed none of these, so version 1 is version 2 without the new ones.
V1_FAMILIES = frozenset({"nhs", "pd", "nd", "pn", "ci", "nn"})


def _family_rank(key: str) -> tuple[int, str]:
    family = key.split(":", 1)[0]
    rank = FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER)
    return rank, key


def _ranked(keys: Iterable[str]) -> list[str]:
    return sorted(set(keys), key=_family_rank)


def _without_aliases(identity: MatchIdentity) -> MatchIdentity:
    return replace(identity, other_names=())


def _alias_identities(identity: MatchIdentity) -> list[MatchIdentity]:
    """Each alias as an identity of its own (a missing part is the primary name's), without the
    NHS number: its keys are the primary identity's."""
    return [
        replace(
            identity,
            given_names=alias.given_names or identity.given_names,
            family_name=alias.family_name or identity.family_name,
            nhs_number=None,
            other_names=(),
        )
        for alias in identity.other_names
    ]


@dataclass(frozen=True)
class KeyScheme:
    version: int
    record_keys: Callable[[MatchIdentity], Iterable[str]]
    search_keys: Callable[[MatchIdentity], Sequence[str]]  # most specific first

    def label(self, key: str) -> str:
        """What is HMACed: the key with the scheme's version in front."""
        return f"v{self.version}|{key}"

    def ranked_record_keys(self, identity: MatchIdentity, limit: int = MAX_RECORD_KEYS) -> tuple[str, ...]:
        """The keys a record is written under: at most `limit`, the primary name's first, then
        the rest of the primary name's and each alias's in turn (each alias gets its most
        specific keys before any name gets its less specific ones)."""
        primary = _ranked(self.record_keys(_without_aliases(identity)))
        chosen: dict[str, None] = dict.fromkeys(primary[: min(PRIMARY_KEYS, limit)])
        queues = [primary[PRIMARY_KEYS:]]
        queues += [_ranked(self.record_keys(a)) for a in _alias_identities(identity)]
        for turn in itertools.zip_longest(*queues):
            for key in turn:
                if len(chosen) >= limit:
                    return tuple(chosen)
                if key is not None:
                    chosen.setdefault(key, None)
        return tuple(chosen)

    def ranked_search_keys(self, identity: MatchIdentity) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.search_keys(identity)))

    def identity_guard_key(self, identity: MatchIdentity) -> str:
        """Normalised given names, family name and date of birth: what two registrations of one
        child without an NHS number share, and twins (different given names) do not."""
        given = compact(normalise_name(identity.given_names))
        family = compact(normalise_name(identity.family_name))
        return f"idguard:{given}|{family}|{identity.date_of_birth.isoformat()}"


def _only(families: frozenset[str], keys: Iterable[str]) -> list[str]:
    return [k for k in keys if k.split(":", 1)[0] in families]


SCHEMES: dict[int, KeyScheme] = {
    1: KeyScheme(
        version=1,
        record_keys=lambda identity: _only(V1_FAMILIES, record_blocking_keys(identity)),
        search_keys=lambda identity: _only(V1_FAMILIES, ranked_search_keys(identity)),
    ),
    2: KeyScheme(version=2, record_keys=record_blocking_keys, search_keys=ranked_search_keys),
}


def key_scheme(version: int) -> KeyScheme:
    try:
        return SCHEMES[version]
    except KeyError:
        raise ValueError(f"unknown blind-index key scheme version {version}") from None
