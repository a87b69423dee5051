"""Normalising names and postcodes before they are compared or turned into blocking keys.

Everything here is a pure function of its argument, so the same identity always
gives the same blocking keys (the crypto layer HMACs them; any drift would make
enrolled children unfindable).
"""

from __future__ import annotations

import re
import unicodedata

import jellyfish

# Letters that NFKD does not decompose into a base letter plus accents.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "ß": "ss",
    }
)
# Anything that is not a letter or digit (hyphens, apostrophes, punctuation, symbols, spaces).
_SEPARATORS = re.compile(r"[\W_]+")
_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")

# Tokens shorter than this (the "o" of "O'Brien") only count as part of the compact form.
MIN_TOKEN_LENGTH = 2


def _fold_once(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.casefold())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.translate(_FOLD)
    # Hyphens, apostrophes and any other punctuation or symbol separate words.
    return _SEPARATORS.sub(" ", s).strip()


def normalise_name(s: str) -> str:
    """Casefold, strip accents, turn hyphens/apostrophes/punctuation into spaces, collapse spaces.

    Idempotent: a few exotic characters change again under a second casefold or
    NFKD pass, so the folding is repeated until it is stable.
    """
    if s.isascii():  # the common case, and already stable after one pass
        return _ASCII_SEPARATORS.sub(" ", s.lower()).strip()
    previous, current = s, _fold_once(s)
    for _ in range(4):
        if current == previous:
            break
        previous, current = current, _fold_once(current)
    return current


def compact(normalised: str) -> str:
    """A normalised name without spaces: "smith jones", "smith-jones" and "smithjones" agree."""
    return normalised.replace(" ", "")


def name_tokens(normalised: str) -> tuple[str, ...]:
    """The words of a normalised name that are long enough to stand on their own."""
    return tuple(t for t in normalised.split(" ") if len(t) >= MIN_TOKEN_LENGTH)


def name_parts(normalised: str) -> tuple[str, ...]:
    """Compact form first, then each word: what a hyphenated or double-barrelled name can be given as."""
    whole = compact(normalised)
    parts = [whole] if whole else []
    for token in name_tokens(normalised):
        if token not in parts:
            parts.append(token)
    return tuple(parts)


def phonetic(token: str) -> str:
    """Metaphone code of one normalised word (falls back to the word when it has no code)."""
    code = jellyfish.metaphone(token) if token.isascii() and token.isalpha() else ""
    return code or token


def postcode_compact(postcode: str | None) -> str | None:
    if not postcode:
        return None
    value = "".join(postcode.split()).upper()
    return value or None


def postcode_outward(postcode: str | None) -> str | None:
    """The outward code (district), e.g. "NW1" of "NW1 2AB": a family moving locally often keeps it."""
    value = postcode_compact(postcode)
    if value is None or len(value) <= 3:
        return value
    return value[:-3]
