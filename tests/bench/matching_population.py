"""A seeded synthetic population of children in England, corrupted searches, and an in-memory evaluation.

Used by ``bench_matching.py`` (in-memory, no AWS) and meant to be reused by a
benchmark that enrols the same population through the real register path: the
population, the corruption generator and the metrics do not depend on how a
search is answered (implement :class:`Searcher` over the real search path and
pass it to :func:`evaluate`).

Names come from Faker's ``en_GB`` pools (sampled once, then drawn with a seeded
``random.Random``: Faker itself is far too slow for 500,000 children), widened
with popular recent baby names and common surnames of England's larger
communities so the name mix looks like today's children rather than their
parents.

Surnames: Faker's en_GB list holds the 500 commonest British surnames with their
population percentages (Smith 1.15, Jones 0.94, ...), which add up to only 39.5%.
Drawing everyone from those 500 would make two children share a surname about five
times as often as they do. So, by default, the other 60.5% of households take a
surname from a long tail: the surname lists of Faker's other Latin-script locales
(Irish, Indian, Nigerian, Ghanaian, Italian, Spanish, Dutch, German, French...),
uniformly. ``PopulationSpec(surname_tail_share=0)`` gives the Faker-only mix.
First names likewise: half from recent top names (weighted by rank), a fifth from
Faker's en_GB list, the rest from other locales' first-name lists (GIVEN_SHARES).
How often two children share a name drives the false-match rate, so the benchmark
prints it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import importlib
import itertools
import random
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from faker import Faker
from faker.providers.person.en_GB import Provider as PersonProvider
from signpost.matching import (
    DEFAULT,
    MatchConfig,
    MatchIdentity,
    Name,
    decide,
    nickname_table,
    normalise_name,
    search_blocking_keys,
)

AS_OF = dt.date(2026, 6, 30)  # "today" for the synthetic population: fixed, so runs repeat
EARLIEST_BIRTH = dt.date(2001, 1, 1)

# Popular baby names in England and Wales 2000-2024 (ONS top lists), weighted above Faker's adult names.
RECENT_BOYS = (  # noqa: SIM905 - a list of names reads better as words
    "Oliver Jack Harry George Noah Charlie Jacob Alfie Freddie Oscar Leo Logan Archie Theo Thomas "
    "James Joshua Henry William Max Lucas Ethan Arthur Mason Isaac Harrison Teddy Finley Daniel "
    "Riley Edward Joseph Alexander Adam Reggie Samuel Jaxon Sebastian Elijah Harley Toby Arlo Dylan "
    "Jude Benjamin Rory Tommy Jake Louie Carter Jenson Hugo Bobby Frankie Ollie Zachary David Albie "
    "Lewis Luca Ronnie Jackson Matthew Alex Harvey Reuben Jayden Caleb Hunter Theodore Nathan Blake "
    "Luke Elliot Roman Stanley Dexter Michael Elliott Tyler Ryan Ellis Finn Albert Kai Liam Callum "
    "Louis Aaron Ezra Leon Connor Grayson Jamie Aiden Gabriel Muhammad Mohammed Mohammad Ibrahim "
    "Yusuf Ali"
).split()
RECENT_GIRLS = (  # noqa: SIM905 - a list of names reads better as words
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence Emily "
    "Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda "
    "Ruby Emilia Maya Millie Isabelle Eva Luna Jessica Maisie Ellie Erin Esme Hallie Scarlett Layla "
    "Chloe Lola Eliza Bonnie Lottie Holly Zara Thea Imogen Gracie Hannah Orla Ayla Penelope Mila "
    "Aurora Lucy Molly Arabella Elizabeth Violet Robyn Abigail Harriet Darcy Georgia Nancy Iris "
    "Maddison Lexi Amber Megan Katie Lauren Bethany Jasmine Leah Niamh Aisha Fatima Maryam Zainab "
    "Hafsa Amira"
).split()
# Accented spellings registered for some children; searches often drop the accents.
ACCENTED_GIRLS = ("Zoë", "Chloé", "Renée", "Anaïs", "Noémie", "Léa", "Éloïse", "Maëlle")
ACCENTED_BOYS = ("José", "Zoltán", "Mátyás", "Jérôme", "Rénald", "Søren", "Łukasz", "Ruairí")
# Surnames of England's larger communities, which Faker's en_GB list lacks (weights on Faker's scale).
EXTRA_SURNAMES = {
    "Khan": 0.35,
    "Ahmed": 0.3,
    "Ali": 0.3,
    "Hussain": 0.3,
    "Begum": 0.2,
    "Patel": 0.35,
    "Singh": 0.25,
    "Shah": 0.15,
    "Iqbal": 0.1,
    "Akhtar": 0.1,
    "Rahman": 0.12,
    "Islam": 0.1,
    "Kaur": 0.12,
    "Sharma": 0.08,
    "Nowak": 0.06,
    "Kowalski": 0.05,
    "Wiśniewski": 0.04,
    "Kowalczyk": 0.04,
    "Popescu": 0.04,
    "Okafor": 0.05,
    "Mensah": 0.05,
    "Adeyemi": 0.05,
    "Okonkwo": 0.04,
    "Osei": 0.04,
    "Mohamed": 0.15,
    "Nguyen": 0.04,
    "Da Silva": 0.05,
    "Dos Santos": 0.04,
    "Núñez": 0.02,
    "McDonald": 0.08,
    "MacLeod": 0.04,
    "D'Souza": 0.03,
    "O'Reilly": 0.05,
    "Fitzgerald": 0.05,
    "Müller": 0.02,
    "Van der Berg": 0.02,
}


# Faker locales whose surname lists make the long tail (Latin script only).
TAIL_LOCALES = (
    "en_IE",
    "en_US",
    "en_IN",
    "en_NZ",
    "yo_NG",
    "ig_NG",
    "tw_GH",
    "it_IT",
    "es_ES",
    "pt_PT",
    "fr_FR",
    "de_DE",
    "nl_NL",
    "cs_CZ",
    "sk_SK",
    "hu_HU",
    "ro_RO",
    "lt_LT",
    "tr_TR",
)


def _latin(name: str) -> bool:
    return all(ch in " -'" or (ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN")) for ch in name)


# Locales whose first names make the given-name tail (de_DE/tr_TR lists are mostly older names).
TAIL_GIVEN_LOCALES = tuple(loc for loc in TAIL_LOCALES if loc not in ("de_DE", "tr_TR", "lt_LT"))
# Shares of children's first names: recent top names (weighted by rank), Faker en_GB's list
# (their parents' generation), and a long tail (ONS: the top 100 names cover about half of births).
GIVEN_SHARES = {"recent": 0.5, "faker": 0.2, "tail": 0.3}


def tail_given_names(attribute: str, exclude: set[str]) -> list[str]:
    names: set[str] = set()
    for locale in TAIL_GIVEN_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        names.update(
            n for n in getattr(provider, attribute, ()) if _latin(n) and n not in exclude and len(n) > 1
        )
    return sorted(names)


def tail_surnames(exclude: set[str]) -> list[str]:
    names: set[str] = set()
    for locale in TAIL_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        names.update(n for n in provider.last_names if _latin(n) and n not in exclude and len(n) > 1)
    return sorted(names)


def valid_nhs_number(rng: random.Random) -> str:
    """A random 10-digit number with a valid modulus-11 check digit."""
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        remainder = sum(d * (10 - i) for i, d in enumerate(digits)) % 11
        check = 11 - remainder
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits)) + str(check)


class WeightedPool:
    """Seeded weighted sampling without Faker's per-call overhead."""

    def __init__(self, items: Sequence[str], weights: Sequence[float]) -> None:
        self.items = list(items)
        self._cumulative = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random) -> str:
        return self.items[bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])]


@dataclass(frozen=True)
class NamePools:
    boys: WeightedPool
    girls: WeightedPool
    surnames: WeightedPool  # Faker en_GB's 500 commonest, weighted by their population share
    tail_surnames: list[str]  # everyone else's: drawn uniformly
    postcodes: list[str]

    @classmethod
    def build(cls, seed: int, postcode_count: int = 120_000) -> NamePools:
        def given(
            faker_names: Sequence[str], recent: Sequence[str], accented: Sequence[str], attribute: str
        ) -> WeightedPool:
            faker_only = [n for n in faker_names if n not in recent]
            tail = [*tail_given_names(attribute, set(recent) | set(faker_only)), *accented]
            rank_weights = [1 / (rank + 10) for rank in range(len(recent))]
            names = [*recent, *faker_only, *tail]
            weights = [
                *(GIVEN_SHARES["recent"] * w / sum(rank_weights) for w in rank_weights),
                *([GIVEN_SHARES["faker"] / len(faker_only)] * len(faker_only)),
                *([GIVEN_SHARES["tail"] / len(tail)] * len(tail)),
            ]
            return WeightedPool(names, weights)

        surnames = dict(PersonProvider.last_names)
        surnames.update(EXTRA_SURNAMES)
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        postcodes = sorted({fake.postcode() for _ in range(postcode_count)})
        random.Random(seed).shuffle(postcodes)
        return cls(
            boys=given(PersonProvider.first_names_male, RECENT_BOYS, ACCENTED_BOYS, "first_names_male"),
            girls=given(
                PersonProvider.first_names_female, RECENT_GIRLS, ACCENTED_GIRLS, "first_names_female"
            ),
            surnames=WeightedPool(list(surnames), list(surnames.values())),
            tail_surnames=tail_surnames(set(surnames)),
            postcodes=postcodes,
        )


@dataclass(frozen=True)
class PopulationSpec:
    surname_tail_share: float = 0.605  # households whose surname is not among Faker's 500 commonest
    hyphenated_share: float = 0.08  # households with a double-barrelled surname
    twin_share: float = 0.025  # households whose first two children are twins
    middle_name_share: float = 0.45
    nhs_share: float = 0.70  # records carrying an NHS number
    postcode_share: float = 0.93
    alias_share: float = 0.03  # a former surname (e.g. before adoption or a parent's remarriage)
    mean_children: float = 1.5


def _birth_date(rng: random.Random) -> dt.date:
    """Vulnerable children are mostly under 18; care leavers stay on to 25."""
    while True:
        age = rng.randrange(26)
        if age >= 18 and rng.random() > 0.25:
            continue
        dob = AS_OF - dt.timedelta(days=age * 365 + rng.randrange(365))
        if EARLIEST_BIRTH <= dob <= AS_OF:
            return dob


def _sex(rng: random.Random) -> str | None:
    r = rng.random()
    if r < 0.49:
        return "female"
    if r < 0.98:
        return "male"
    return "not_known" if r < 0.995 else "indeterminate"


def generate_population(
    n: int, seed: int, pools: NamePools, spec: PopulationSpec | None = None, nhs_taken: set[str] | None = None
) -> list[MatchIdentity]:
    """Children in households (siblings share surname and postcode; some are twins)."""
    spec = spec or PopulationSpec()
    rng = random.Random(seed)
    nhs_taken = set() if nhs_taken is None else nhs_taken
    children: list[MatchIdentity] = []

    def surname() -> str:
        if rng.random() < spec.surname_tail_share:
            return rng.choice(pools.tail_surnames)
        return pools.surnames.draw(rng)

    while len(children) < n:
        family = surname()
        if rng.random() < spec.hyphenated_share:
            other = surname()
            if other != family:
                family = f"{family}-{other}"
        postcode = rng.choice(pools.postcodes) if rng.random() < spec.postcode_share else None
        size = 1 + min(3, int(rng.expovariate(1 / (spec.mean_children - 1))))
        twins = size >= 2 and rng.random() < spec.twin_share * 2
        household_dob = _birth_date(rng)
        used_first: set[str] = set()
        for k in range(size):
            sex = _sex(rng)
            pool = pools.girls if sex == "female" or (sex != "male" and rng.random() < 0.5) else pools.boys
            first = pool.draw(rng)
            while first in used_first:
                first = pool.draw(rng)
            used_first.add(first)
            given = first
            if rng.random() < spec.middle_name_share:
                middle = pool.draw(rng)
                if middle != first:
                    given = f"{first} {middle}"
            dob = household_dob if (twins and k < 2) else _birth_date(rng)
            nhs = None
            if rng.random() < spec.nhs_share:
                nhs = valid_nhs_number(rng)
                while nhs in nhs_taken:
                    nhs = valid_nhs_number(rng)
                nhs_taken.add(nhs)
            aliases: tuple[Name, ...] = ()
            if rng.random() < spec.alias_share:
                aliases = (Name(given_names="", family_name=surname()),)
            children.append(
                MatchIdentity(
                    given_names=given,
                    family_name=family,
                    date_of_birth=dob,
                    sex=sex,
                    nhs_number=nhs,
                    postcode=postcode,
                    other_names=aliases,
                )
            )
            if len(children) >= n:
                break
    return children


# ---------------------------------------------------------------------------
# Corruption: what a busy professional types.

ERROR_MIX: dict[str, float] = {
    "typo": 0.20,
    "phonetic": 0.10,
    "nickname": 0.10,
    "hyphen_part": 0.10,
    "name_swap": 0.05,
    "day_month_swap": 0.10,
    "year_digit": 0.10,
    "old_postcode": 0.10,
    "exact": 0.05,
    "two_errors": 0.10,  # two of the single errors above at once
}
SINGLE_ERRORS = (
    "typo",
    "phonetic",
    "nickname",
    "hyphen_part",
    "name_swap",
    "day_month_swap",
    "year_digit",
    "old_postcode",
)

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _row_index, _row in enumerate(_KEYBOARD_ROWS):
    for _i, _ch in enumerate(_row):
        near = _row[max(0, _i - 1) : _i] + _row[_i + 1 : _i + 2]
        for _other_row in (_row_index - 1, _row_index + 1):
            if 0 <= _other_row < len(_KEYBOARD_ROWS):
                near += _KEYBOARD_ROWS[_other_row][max(0, _i - 1) : _i + 1]
        _NEIGHBOURS[_ch] = near

# Respellings that sound the same (applied once, where the pattern occurs).
_PHONETIC_RULES: tuple[tuple[str, str], ...] = (
    ("ph", "f"),
    ("f", "ph"),
    ("ck", "k"),
    ("c", "k"),
    ("k", "c"),
    ("ie", "y"),
    ("y", "ie"),
    ("y", "i"),
    ("i", "y"),
    ("ee", "ea"),
    ("ea", "ee"),
    ("ou", "ow"),
    ("s", "z"),
    ("z", "s"),
    ("th", "t"),
    ("ai", "ay"),
    ("ay", "ai"),
    ("ll", "l"),
    ("nn", "n"),
    ("tt", "t"),
    ("rr", "r"),
    ("ey", "y"),
    ("ah", "a"),
    ("x", "ks"),
    ("ph", "ff"),
    ("oh", "o"),
    ("ur", "er"),
    ("er", "ur"),
    ("an", "en"),
    ("en", "an"),
)


def _applicable_respellings(name: str) -> list[str]:
    lower = name.lower()
    found = []
    for pattern, replacement in _PHONETIC_RULES:
        start = lower.find(pattern, 1)  # keep the first letter: people rarely mishear it
        if start > 0:
            respelt = lower[:start] + replacement + lower[start + len(pattern) :]
            if respelt != lower:
                found.append(respelt)
    return [r.title() for r in found]


def _typo(name: str, rng: random.Random) -> str:
    letters = list(name)
    positions = [i for i, ch in enumerate(letters) if ch.isalpha()]
    if len(positions) < 2:
        return name + "e"
    i = rng.choice(positions[1:]) if rng.random() < 0.85 else positions[0]
    kind = rng.random()
    ch = letters[i].lower()
    if kind < 0.35 and ch in _NEIGHBOURS:
        replacement = rng.choice(_NEIGHBOURS[ch])
        letters[i] = replacement.upper() if letters[i].isupper() else replacement
    elif kind < 0.6 and len(positions) > 3:
        del letters[i]
    elif kind < 0.8:
        letters.insert(i, rng.choice(_NEIGHBOURS.get(ch, "e")))
    elif i + 1 < len(letters) and letters[i + 1].isalpha() and letters[i + 1] != letters[i]:
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    else:
        letters.insert(i, letters[i].lower())  # a doubled letter
    typed = "".join(letters)
    return typed if normalise_name(typed) != normalise_name(name) else name + "e"


def _first_given(identity: MatchIdentity) -> str:
    return identity.given_names.split(" ")[0]


def _nickname_choices(first: str) -> list[str]:
    table = nickname_table()
    key = normalise_name(first).replace(" ", "")
    return sorted(table.nicknames_of(key) | table.canonicals_of(key))


def _year_digit_choices(dob: dt.date) -> list[dt.date]:
    year = f"{dob.year:04d}"
    choices = []
    for position in (2, 3):
        for digit in "0123456789":
            if digit == year[position]:
                continue
            candidate_year = int(year[:position] + digit + year[position + 1 :])
            try:
                candidate = dob.replace(year=candidate_year)
            except ValueError:
                continue
            if EARLIEST_BIRTH <= candidate <= AS_OF:
                choices.append(candidate)
    return choices


def eligible(identity: MatchIdentity, error: str) -> bool:
    if error == "phonetic":
        return bool(
            _applicable_respellings(_first_given(identity)) or _applicable_respellings(identity.family_name)
        )
    if error == "nickname":
        return bool(_nickname_choices(_first_given(identity)))
    if error == "hyphen_part":
        return "-" in identity.family_name
    if error == "day_month_swap":
        dob = identity.date_of_birth
        return dob.day <= 12 and dob.day != dob.month
    if error == "year_digit":
        return bool(_year_digit_choices(identity.date_of_birth))
    if error == "old_postcode":
        return identity.postcode is not None
    return True


def _other_postcode(current: str, pools: NamePools, rng: random.Random) -> str:
    if rng.random() < 0.3:  # a move within the district: same outward code
        outward = current.split(" ", maxsplit=1)[0]
        inward = (
            f"{rng.randrange(10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        moved = f"{outward} {inward}"
        if moved != current:
            return moved
    other = rng.choice(pools.postcodes)
    return other if other != current else rng.choice(pools.postcodes)


def apply_error(
    query: MatchIdentity, record: MatchIdentity, error: str, pools: NamePools, rng: random.Random
) -> MatchIdentity:
    if error == "typo":
        if rng.random() < 0.5:
            return replace(query, given_names=_typo(query.given_names, rng))
        return replace(query, family_name=_typo(query.family_name, rng))
    if error == "phonetic":
        given_options = _applicable_respellings(_first_given(query))
        family_options = _applicable_respellings(query.family_name)
        if given_options and (not family_options or rng.random() < 0.5):
            rest = query.given_names.split(" ")[1:]
            return replace(query, given_names=" ".join([rng.choice(given_options), *rest]))
        if family_options:
            return replace(query, family_name=rng.choice(family_options))
        return query
    if error == "nickname":
        choices = _nickname_choices(_first_given(query))
        return replace(query, given_names=rng.choice(choices).title()) if choices else query
    if error == "hyphen_part":
        parts = [p for p in record.family_name.split("-") if p]  # as registered, one part given
        return replace(query, family_name=rng.choice(parts)) if len(parts) > 1 else query
    if error == "name_swap":
        return replace(query, given_names=query.family_name, family_name=query.given_names)
    if error == "day_month_swap":
        dob = query.date_of_birth
        if dob.day <= 12 and dob.day != dob.month:
            return replace(query, date_of_birth=dt.date(dob.year, dob.day, dob.month))
        return query
    if error == "year_digit":
        dates = _year_digit_choices(query.date_of_birth)
        return replace(query, date_of_birth=rng.choice(dates)) if dates else query
    if error == "old_postcode":
        current = query.postcode or record.postcode
        return replace(query, postcode=_other_postcode(current, pools, rng)) if current else query
    raise ValueError(error)


def _strip_accents(s: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))


def as_typed(record: MatchIdentity, rng: random.Random, *, keep_nhs: bool) -> MatchIdentity:
    """What a professional types for this child with no error: first name only usually,
    case and punctuation as it comes, no NHS number usually, the current postcode often."""
    given = record.given_names if rng.random() < 0.3 else _first_given(record)
    family = record.family_name
    if "-" in family and rng.random() < 0.3:
        family = family.replace("-", " ")
    if rng.random() < 0.5:
        given, family = _strip_accents(given), _strip_accents(family)
    style = rng.random()
    if style < 0.15:
        given, family = given.upper(), family.upper()
    elif style < 0.25:
        given, family = given.lower(), family.lower()
    return MatchIdentity(
        given_names=given,
        family_name=family,
        date_of_birth=record.date_of_birth,
        sex=record.sex if rng.random() < 0.7 else None,
        nhs_number=record.nhs_number if keep_nhs else None,
        postcode=record.postcode if rng.random() < 0.6 else None,
    )


@dataclass(frozen=True)
class Query:
    identity: MatchIdentity
    truth: int | None  # index of the enrolled child searched for; None for a never-enrolled child
    errors: tuple[str, ...]
    sibling: int | None = None  # an enrolled twin or sibling of the child searched for

    @property
    def kind(self) -> str:
        if self.truth is None:
            return "never_enrolled"
        if self.sibling is not None:
            return self.errors[0]  # "twin" or "sibling"
        if len(self.errors) > 1:
            return "two_errors"
        return self.errors[0] if self.errors else "exact"


def corrupted_queries(
    population: Sequence[MatchIdentity],
    count: int,
    seed: int,
    pools: NamePools,
    mix: dict[str, float] | None = None,
) -> list[Query]:
    """Searches for enrolled children, each drawn from the error mix (children sampled among those the
    error can apply to: a day/month swap needs a day of 12 or less, a part-surname a double-barrelled one)."""
    mix = mix or ERROR_MIX
    rng = random.Random(seed)
    kinds = list(mix)
    weights = [mix[k] for k in kinds]
    queries: list[Query] = []
    while len(queries) < count:
        kind = rng.choices(kinds, weights)[0]
        if kind == "exact":
            errors: tuple[str, ...] = ()
        elif kind == "two_errors":
            errors = tuple(sorted(rng.sample(SINGLE_ERRORS, 2), key=SINGLE_ERRORS.index))  # swap last
        else:
            errors = (kind,)
        for _ in range(200):
            truth = rng.randrange(len(population))
            record = population[truth]
            if all(eligible(record, e) for e in errors):
                break
        else:
            continue
        query = as_typed(record, rng, keep_nhs=not errors)
        for error in errors:
            query = apply_error(query, record, error, pools, rng)
        queries.append(Query(identity=query, truth=truth, errors=errors))
    return queries


def never_enrolled_queries(children: Iterable[MatchIdentity], seed: int) -> list[Query]:
    rng = random.Random(seed)
    return [Query(identity=as_typed(c, rng, keep_nhs=False), truth=None, errors=()) for c in children]


# ---------------------------------------------------------------------------
# Evaluation


@dataclass(frozen=True)
class SearchResult:
    """What one search answered, in population indices (a real-path searcher maps child ids back)."""

    outcome: str
    named: tuple[int, ...]  # the matched child, or the possible ones, best first
    candidates_read: int
    keys_queried: int
    blocked_in: bool | None = None  # whether the searched-for child was among the candidates, if known
    detail: tuple[str, ...] = ()  # comparison levels of the candidates, for printing misses


class Searcher(Protocol):
    """One search: the in-memory matcher here; the real register/search path against moto elsewhere."""

    def search(self, query: MatchIdentity, truth: int | None) -> SearchResult: ...


class InMemoryIndex:
    """Blocking key -> enrolled children, as the blind-index GSI holds them (keys hashed to save memory)."""

    def __init__(self) -> None:
        self._blocks: dict[int, int | list[int]] = {}
        self.entries = 0

    def add(self, child: int, keys: Iterable[str]) -> None:
        blocks = self._blocks
        for key in keys:
            h = hash(key)
            existing = blocks.get(h)
            if existing is None:
                blocks[h] = child
            elif isinstance(existing, int):
                blocks[h] = [existing, child]
            else:
                existing.append(child)
            self.entries += 1

    def block(self, key: str) -> list[int]:
        found = self._blocks.get(hash(key))
        if found is None:
            return []
        return [found] if isinstance(found, int) else found

    def block_sizes(self) -> Iterable[int]:
        for found in self._blocks.values():
            yield 1 if isinstance(found, int) else len(found)

    def __len__(self) -> int:
        return len(self._blocks)

    def candidates(self, keys: Iterable[str]) -> list[int]:
        found: set[int] = set()
        for key in keys:
            found.update(self.block(key))
        return sorted(found)


class InMemorySearcher:
    """Blocking through an :class:`InMemoryIndex`, then the matcher's decision: no AWS at all."""

    def __init__(
        self, population: Sequence[MatchIdentity], index: InMemoryIndex, config: MatchConfig = DEFAULT
    ) -> None:
        self.population = population
        self.index = index
        self.config = config

    def search(self, query: MatchIdentity, truth: int | None) -> SearchResult:
        keys = search_blocking_keys(query)
        candidate_ids = self.index.candidates(keys)
        decision = decide(query, [self.population[i] for i in candidate_ids], self.config)
        return SearchResult(
            outcome=decision.outcome,
            named=tuple(candidate_ids[i] for i in decision.ranked),
            candidates_read=len(candidate_ids),
            keys_queried=len(keys),
            blocked_in=None if truth is None else truth in candidate_ids,
            detail=tuple(f"{s.fields} w={s.weight}" for s in decision.scores),
        )


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return float(ordered[index])


@dataclass
class KindTally:
    searches: int = 0
    correct_match: int = 0
    correct_possible: int = 0
    wrong_match: int = 0
    any_match: int = 0
    any_possible: int = 0
    blocked_in: int = 0
    sibling_match: int = 0  # matched the searched-for child's twin or sibling

    def as_dict(self) -> dict[str, float]:
        n = max(self.searches, 1)
        return {
            "searches": self.searches,
            "correct_match": round(self.correct_match / n, 4),
            "match_or_possible": round((self.correct_match + self.correct_possible) / n, 4),
            "wrong_child_match": round(self.wrong_match / n, 4),
            "any_match": round(self.any_match / n, 4),
            "possible_match": round(self.any_possible / n, 4),
            "blocking_recall": round(self.blocked_in / n, 4),
            "sibling_match": self.sibling_match,
        }


@dataclass
class Evaluation:
    by_kind: dict[str, KindTally] = field(default_factory=dict)
    candidates: list[int] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    seconds: float = 0.0
    failures: list[tuple[Query, str, tuple[int, ...], list[str]]] = field(default_factory=list)

    def total(self, enrolled: bool) -> KindTally:
        total = KindTally()
        for kind, tally in self.by_kind.items():
            if (kind == "never_enrolled") == (not enrolled):
                for name in vars(total):
                    setattr(total, name, getattr(total, name) + getattr(tally, name))
        return total

    def summary(self) -> dict[str, object]:
        enrolled = self.total(enrolled=True)
        never = self.total(enrolled=False)
        n, m = max(enrolled.searches, 1), max(never.searches, 1)
        searches = enrolled.searches + never.searches
        return {
            "enrolled_searches": enrolled.searches,
            "never_enrolled_searches": never.searches,
            "correct_match_rate": round(enrolled.correct_match / n, 4),
            "match_or_possible_rate": round((enrolled.correct_match + enrolled.correct_possible) / n, 4),
            "possible_match_rate": round(enrolled.any_possible / n, 4),
            "wrong_child_match_rate": round(enrolled.wrong_match / n, 4),
            "blocking_recall": round(enrolled.blocked_in / n, 4),
            "twin_or_sibling_matched_to_other": enrolled.sibling_match,
            "never_enrolled_match_rate": round(never.any_match / m, 4),
            "never_enrolled_possible_rate": round(never.any_possible / m, 4),
            "candidates_p50": percentile(self.candidates, 50),
            "candidates_p99": percentile(self.candidates, 99),
            "candidates_max": max(self.candidates, default=0),
            "keys_per_search_p50": percentile(self.keys, 50),
            "keys_per_search_p99": percentile(self.keys, 99),
            "keys_per_search_max": max(self.keys, default=0),
            "searches_per_second": round(searches / self.seconds, 1) if self.seconds else 0.0,
        }


def evaluate(
    searcher: Searcher,
    queries: Sequence[Query],
    progress: Callable[[int], None] | None = None,
    keep_failures: int = 0,
) -> Evaluation:
    """Search for each query and tally the outcome against the truth."""
    result = Evaluation()
    started = time.perf_counter()
    for done, query in enumerate(queries, 1):
        found = searcher.search(query.identity, query.truth)
        tally = result.by_kind.setdefault(query.kind, KindTally())
        tally.searches += 1
        result.candidates.append(found.candidates_read)
        result.keys.append(found.keys_queried)
        if found.outcome == "match":
            tally.any_match += 1
        elif found.outcome == "possible_match":
            tally.any_possible += 1
        correct = False
        if query.truth is not None:
            tally.blocked_in += bool(found.blocked_in)
            if found.outcome == "match":
                correct = found.named[0] == query.truth
                tally.correct_match += correct
                tally.wrong_match += not correct
                tally.sibling_match += query.sibling is not None and found.named[0] == query.sibling
            elif found.outcome == "possible_match" and query.truth in found.named:
                tally.correct_possible += 1
        missed = not correct if query.truth is not None else found.outcome == "match"
        if missed and len(result.failures) < keep_failures:
            result.failures.append((query, found.outcome, found.named, list(found.detail)))
        if progress is not None and done % 2000 == 0:
            progress(done)
    result.seconds = time.perf_counter() - started
    return result


def exact_name_dob_collisions(population: Sequence[MatchIdentity], children: Iterable[MatchIdentity]) -> int:
    """How many never-enrolled children share first given name, family name and DOB with an enrolled one:
    searches no matcher can tell apart without an NHS number or postcode."""

    def signature(c: MatchIdentity) -> tuple[str, str, dt.date]:
        return (normalise_name(_first_given(c)), normalise_name(c.family_name), c.date_of_birth)

    enrolled = Counter(signature(c) for c in population)
    return sum(1 for c in children if signature(c) in enrolled)


def name_sharing(population: Sequence[MatchIdentity]) -> dict[str, float]:
    """The chance that two children drawn at random share a (normalised) first name, or a surname."""

    def chance(values: Iterable[str]) -> float:
        counts = Counter(values)
        total = sum(counts.values())
        return sum((c / total) ** 2 for c in counts.values()) if total else 0.0

    return {
        "first_name": chance(normalise_name(_first_given(c)) for c in population),
        "surname": chance(normalise_name(c.family_name) for c in population),
    }


def summarise_counts(values: Sequence[int]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), 2) if values else 0.0,
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values, default=0),
    }
