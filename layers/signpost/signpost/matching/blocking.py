"""Blocking keys: which stored records a search reads before scoring.

A record is written under many keys; a search asks for a few. They meet when the
search and the record agree on what a key is made of, so each key family covers
the errors the others cannot:

=========================  ==========================================  ===============================
key                        made of                                     still finds the child when...
=========================  ==========================================  ===============================
``nhs:<nhs>``              NHS number                                  anything else is wrong
``nd:<code>|<dob>``        phonetic code of ONE name word + full DOB   the other name is misspelt or a
                                                                       nickname; a surname is given in
                                                                       part; names are swapped
``nn:<a>+<b>|y:<year>``    codes of first given (or its nickname       the day or month is wrong or
                           forms) and a family part, order-free        swapped
                           + birth year
``nn:<a>+<b>|md:<mm-dd>``  the same pair + day and month               a digit of the year is wrong
``pd:<postcode>|<dob>``    postcode + full DOB                         both names are wrong
``pn:<postcode>|<code>``   postcode + one name's code                  the DOB and the other name are
                                                                       wrong
=========================  ==========================================  ===============================

Phonetic codes are metaphone, so spelling variants that sound alike share a key;
single-letter typos usually change at most one of the two names, which the
``nd`` keys of the other name cover. Day/month swaps are also queried directly
(``nd`` with the swapped date). Keys are pure functions of the identity and the
fixed nickname table: the crypto layer turns each into a keyed HMAC.

A search asks for at most about a dozen keys (``ranked_search_keys`` orders them
most specific first, for a caller that must stop reading early); every key carries
the date of birth or the postcode, so a block holds only children who share a
name sound and a birthday, a birth year, or an address.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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

# How many formal names a nickname given in a search also asks for (nickname to
# nickname of the same formal name, e.g. Freddie / Alfie via Alfred).
SEARCH_NICKNAME_FORMS = 2
# How many sounds of the first given name (itself, formal names, nicknames) a record is
# written under in the name-pair keys: bounds the index items one child costs.
RECORD_GIVEN_FORMS = 6


def _codes(words: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for word in words:
        code = phonetic(word)
        if code not in seen:
            seen.append(code)
    return seen


def _first_given(normalised: str) -> str:
    tokens = name_tokens(normalised)
    return tokens[0] if tokens else compact(normalised)


def _record_given_forms(first: str) -> list[str]:
    """The first given name, the formal names it may be short for, and its nicknames."""
    table = nickname_table()
    return [first, *sorted(table.canonicals_of(first)), *sorted(table.nicknames_of(first))]


def _search_given_forms(first: str) -> list[str]:
    return [first, *sorted(nickname_table().canonicals_of(first))[:SEARCH_NICKNAME_FORMS]]


def _swapped_day_month(dob: dt.date) -> dt.date | None:
    if dob.day > 12 or dob.day == dob.month:
        return None
    return dt.date(dob.year, dob.day, dob.month)


def _pair(a: str, b: str) -> str:
    return "+".join(sorted((a, b)))


def _name_keys(given_raw: str, family_raw: str, dob: dt.date, *, record: bool) -> list[str]:
    given, family = normalise_name(given_raw), normalise_name(family_raw)
    first = _first_given(given)
    given_words = name_parts(given) if record else ((first,) if first else ())
    family_codes = _codes(name_parts(family))
    keys = [f"nd:{code}|{dob.isoformat()}" for code in _codes((*given_words, *name_parts(family)))]
    if first and family_codes:
        forms = _record_given_forms(first) if record else _search_given_forms(first)
        for given_code in _codes(forms)[:RECORD_GIVEN_FORMS]:
            for family_code in family_codes:
                pair = _pair(given_code, family_code)
                keys.append(f"nn:{pair}|y:{dob.year:04d}")
                keys.append(f"nn:{pair}|md:{dob.month:02d}-{dob.day:02d}")
    return keys


def record_blocking_keys(identity: MatchIdentity) -> frozenset[str]:
    """Every key an enrolled record is written under (its aliases and former names included)."""
    dob = identity.date_of_birth
    keys: set[str] = set()
    if identity.nhs_number:
        keys.add(f"nhs:{identity.nhs_number}")
    names = [(identity.given_names, identity.family_name)]
    names += [
        (alias.given_names or identity.given_names, alias.family_name or identity.family_name)
        for alias in identity.other_names
    ]
    postcode = postcode_compact(identity.postcode)
    if postcode:
        keys.add(f"pd:{postcode}|{dob.isoformat()}")
    for given_raw, family_raw in names:
        keys.update(_name_keys(given_raw, family_raw, dob, record=True))
        if postcode:
            keys.update(_postcode_name_keys(postcode, given_raw, family_raw))
    return frozenset(keys)


def _postcode_name_keys(postcode: str, given_raw: str, family_raw: str) -> list[str]:
    first = _first_given(normalise_name(given_raw))
    family = compact(normalise_name(family_raw))
    return [f"pn:{postcode}|{code}" for code in _codes(w for w in (first, family) if w)]


def ranked_search_keys(identity: MatchIdentity) -> tuple[str, ...]:
    """The keys a search queries, most specific first (NHS, address, then name and date keys)."""
    dob = identity.date_of_birth
    keys: list[str] = []
    if identity.nhs_number:
        keys.append(f"nhs:{identity.nhs_number}")
    postcode = postcode_compact(identity.postcode)
    if postcode:
        keys.append(f"pd:{postcode}|{dob.isoformat()}")
    keys += _name_keys(identity.given_names, identity.family_name, dob, record=False)
    swapped = _swapped_day_month(dob)
    if swapped is not None:
        first = _first_given(normalise_name(identity.given_names))
        family = compact(normalise_name(identity.family_name))
        keys += [f"nd:{code}|{swapped.isoformat()}" for code in _codes(w for w in (family, first) if w)]
    if postcode:
        keys += _postcode_name_keys(postcode, identity.given_names, identity.family_name)
    return tuple(dict.fromkeys(keys))


def search_blocking_keys(identity: MatchIdentity) -> frozenset[str]:
    """The keys a search queries (about a dozen at most; see :func:`ranked_search_keys`)."""
    return frozenset(ranked_search_keys(identity))
