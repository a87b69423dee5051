"""Blocking keys: which stored records a search reads before scoring.

A record is written under many keys; a search asks for a few. They meet when the
search and the record agree on what a key is made of, so each key family covers
errors the others cannot (``code`` = metaphone code of one name word, ``initial``
= first letter of the other name; name keys do not care which name is which, so
given and family names swapped still meet):

==============================  ======================================  ==================================
key                             made of                                 still finds the child when...
==============================  ======================================  ==================================
``nhs:<nhs>``                   NHS number                              anything else is wrong
``nd:<code>|<dob>``             one name word + full DOB                the other name is misspelt, a
                                                                        nickname or missing; a surname is
                                                                        given in part; names are swapped
``nd:<code>|<swapped dob>``     (search only) the same, day and month   day and month are swapped, and
                                swapped                                 one name is wrong too
``ci:<code>|<initial>|md:``     one name's code + the other's initial   a digit of the year is wrong (also
                                + day and month                         with a typo in one name)
``ym:<code>|<initial>|<y-m>``   one name's code + the other's initial   the day is mistyped (digits
                                + year and month                        transposed) and the other name
                                                                        misspelt beyond its sound
``nn:<code>+<code>|y:<year>``   both names' codes + birth year          the day or month is mistyped
``pd:<postcode>|<dob>``         postcode + full DOB                     both names are wrong
``pn:<postcode>|<code>``        postcode + one name's code              the DOB and the other name are
                                                                        wrong
``di:<dob>|<initial>``          full DOB + the family name's initial    the given name is missing or
                                                                        wrong, the family name misspelt
                                                                        and the postcode wrong
``nm:<first>|<family>``         first given name + family name, as      the DOB and the postcode are both
                                written (normalised)                    wrong
==============================  ======================================  ==================================

Nicknames: the first given name also stands for the formal names it may be short
for (Alfie -> Alfred) in the ``ci`` and ``nn`` keys, on both sides, so a nickname
meets its formal name and two nicknames of one formal name meet each other.
Keys are pure functions of the identity and the fixed nickname table; the crypto
layer turns each into a keyed HMAC.

A search asks for about a dozen keys (``ranked_search_keys`` orders them most
specific first, for a caller that must stop reading early). Every key carries the
full date of birth, the day and month with a name sound and an initial, the birth
year with two name sounds, or the postcode, so a block holds only a handful of
children even at 500,000 enrolled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from signpost.matching.nickname_table import nickname_table
from signpost.matching.normalise import (
    compact,
    name_parts,
    name_tokens,
    normalise_name,
    phonetic,
    postcode_compact,
)
from signpost.matching.types import MatchIdentity

# How many formal names a nickname stands for in the keys (the nickname list maps a
# few nicknames to many formal names: "al" to fourteen). Bounds keys per child and search.
NICKNAME_FORMS = 2


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


@dataclass(frozen=True, slots=True)
class _NameKeyParts:
    """What the keys are made of, for one (given, family) reading of a name."""

    first: str  # first given name
    given_words: tuple[str, ...]  # compact given names, then each word
    family_words: tuple[str, ...]  # compact family name, then each word
    first_forms: tuple[str, ...]  # the first given name and the formal names it may stand for

    @classmethod
    def of(cls, given_raw: str, family_raw: str) -> _NameKeyParts:
        given, family = normalise_name(given_raw), normalise_name(family_raw)
        tokens = name_tokens(given)
        first = tokens[0] if tokens else compact(given)
        canonicals = sorted(nickname_table().canonicals_of(first))[:NICKNAME_FORMS] if first else []
        return cls(
            first=first,
            given_words=name_parts(given),
            family_words=name_parts(family),
            first_forms=tuple(_unique([first, *canonicals])),
        )

    @property
    def family_whole(self) -> str:
        return self.family_words[0] if self.family_words else ""


def _codes(words: Iterable[str]) -> list[str]:
    return _unique(phonetic(w) for w in words if w)


def _initials(words: Iterable[str]) -> list[str]:
    return _unique(w[0] for w in words if w)


def _md(d: dt.date) -> str:
    return f"md:{d.month:02d}-{d.day:02d}"


def _ym(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _code_initial_keys(
    codes_a: Iterable[str],
    initials_b: Iterable[str],
    codes_b: Iterable[str],
    initials_a: Iterable[str],
    date_part: str,
    *,
    family: str = "ci",
) -> list[str]:
    """One name's code with the other name's initial, both ways round."""
    initials_b, initials_a = list(initials_b), list(initials_a)
    keys = [f"{family}:{code}|{initial}|{date_part}" for code in codes_a for initial in initials_b]
    keys += [f"{family}:{code}|{initial}|{date_part}" for code in codes_b for initial in initials_a]
    return keys


def _pair(a: str, b: str) -> str:
    return "+".join(sorted((a, b)))


def _record_name_keys(parts: _NameKeyParts, dob: dt.date) -> list[str]:
    keys = [f"nd:{code}|{dob.isoformat()}" for code in _codes((*parts.given_words, *parts.family_words))]
    if not parts.first or not parts.family_words:
        return keys
    family_codes = _codes(parts.family_words)
    keys += _code_initial_keys(
        family_codes,
        _initials(parts.first_forms),
        _codes(parts.first_forms),
        _initials(parts.family_words),
        _md(dob),
    )
    # Year and month: the whole names only (a part of a surname or a nickname with a wrong day and the
    # other name misspelt is three errors at once), which keeps a record's keys few.
    keys += _code_initial_keys(
        _codes([parts.family_whole]),
        _initials([parts.first]),
        _codes([parts.first]),
        _initials([parts.family_whole]),
        _ym(dob),
        family="ym",
    )
    keys += [f"nn:{_pair(g, f)}|y:{dob.year:04d}" for g in _codes(parts.first_forms) for f in family_codes]
    return keys


def _name_only_keys(parts: _NameKeyParts, dob: dt.date) -> list[str]:
    """Keys for the searches whose other fields are all wrong: DOB + family initial, and the names alone
    (least specific: read last)."""
    keys = [f"di:{dob.isoformat()}|{initial}" for initial in _initials([parts.family_whole])]
    if parts.first and parts.family_whole:
        keys.append(f"nm:{parts.first}|{parts.family_whole}")
    return keys


def _postcode_name_keys(postcode: str, parts: _NameKeyParts) -> list[str]:
    return [f"pn:{postcode}|{code}" for code in _codes((parts.first, parts.family_whole))]


def record_blocking_keys(identity: MatchIdentity) -> frozenset[str]:
    """Every key an enrolled record is written under (its aliases and former names included)."""
    dob = identity.date_of_birth
    keys: set[str] = set()
    if identity.nhs_number:
        keys.add(f"nhs:{identity.nhs_number}")
    postcode = postcode_compact(identity.postcode)
    if postcode:
        keys.add(f"pd:{postcode}|{dob.isoformat()}")
    names = [(identity.given_names, identity.family_name)]
    names += [
        (alias.given_names or identity.given_names, alias.family_name or identity.family_name)
        for alias in identity.other_names
    ]
    for given_raw, family_raw in names:
        parts = _NameKeyParts.of(given_raw, family_raw)
        keys.update(_record_name_keys(parts, dob))
        keys.update(_name_only_keys(parts, dob))
        if postcode:
            keys.update(_postcode_name_keys(postcode, parts))
    return frozenset(keys)


def _swapped_day_month(dob: dt.date) -> dt.date | None:
    if dob.day > 12 or dob.day == dob.month:
        return None
    return dt.date(dob.year, dob.day, dob.month)


def ranked_search_keys(identity: MatchIdentity) -> tuple[str, ...]:
    """The keys a search queries, most specific first (NHS, address, then name and date keys)."""
    dob = identity.date_of_birth
    parts = _NameKeyParts.of(identity.given_names, identity.family_name)
    first_code = _codes([parts.first])
    whole_code = _codes([parts.family_whole])
    keys: list[str] = []
    if identity.nhs_number:
        keys.append(f"nhs:{identity.nhs_number}")
    postcode = postcode_compact(identity.postcode)
    if postcode:
        keys.append(f"pd:{postcode}|{dob.isoformat()}")
    keys += [f"nd:{code}|{dob.isoformat()}" for code in _codes((parts.first, *parts.family_words))]
    swapped = _swapped_day_month(dob)
    if swapped is not None:
        keys += [f"nd:{code}|{swapped.isoformat()}" for code in _unique((*whole_code, *first_code))]
    if parts.first and parts.family_words:
        keys += _code_initial_keys(
            _codes(parts.family_words),
            _initials(parts.first_forms),
            _codes(parts.first_forms),
            _initials([parts.family_whole]),
            _md(dob),
        )
        if swapped is not None:
            keys += _code_initial_keys(whole_code, _initials([parts.first]), [], [], _md(swapped))
        keys += _code_initial_keys(
            whole_code,
            _initials([parts.first]),
            first_code,
            _initials([parts.family_whole]),
            _ym(dob),
            family="ym",
        )
        keys += [f"nn:{_pair(g, f)}|y:{dob.year:04d}" for g in _codes(parts.first_forms) for f in whole_code]
    if postcode:
        keys += _postcode_name_keys(postcode, parts)
    keys += _name_only_keys(parts, dob)
    return tuple(_unique(keys))


def search_blocking_keys(identity: MatchIdentity) -> frozenset[str]:
    """The keys a search queries (about a dozen; see :func:`ranked_search_keys`)."""
    return frozenset(ranked_search_keys(identity))
