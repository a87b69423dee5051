"""The Identity shape shared by register and search, with its validation rules (API.md)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, field_validator, model_validator

from signpost.models.common import Sex, StrictModel

LONDON = ZoneInfo("Europe/London")
MAX_AGE_YEARS = 26

# UK postcode by format (BS 7666 shape), any case, spaces between its two parts; existence is
# not checked. The same pattern is published in the OpenAPI document.
POSTCODE_PATTERN = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2}$"
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
# 10 digits, as written or in the usual 3-3-4 groups.
NHS_NUMBER_PATTERN = r"^[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}$"


def today_in_england() -> dt.date:
    return dt.datetime.now(tz=LONDON).date()


def nhs_number_is_valid(value: str) -> bool:
    """Modulus 11 check of a 10-digit NHS number."""
    if len(value) != 10 or not value.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


def _nhs_number(value: str) -> str:
    digits = re.sub(r"[ -]", "", value)
    if not re.fullmatch(NHS_NUMBER_PATTERN, value) or not nhs_number_is_valid(digits):
        raise ValueError("must be 10 digits (groups of 3, 3 and 4 may be separated) with a valid check digit")
    return digits


def normalise_postcode(value: str) -> str:
    m = _POSTCODE.match(re.sub(r"\s+", "", value).upper()) if re.fullmatch(POSTCODE_PATTERN, value) else None
    if not m:
        raise ValueError("must be a UK postcode, e.g. SW1A 1AA")
    return f"{m.group(1)} {m.group(2)}"


def _date_of_birth(value: dt.date) -> dt.date:
    today = today_in_england()
    if value > today:
        raise ValueError("must not be in the future")
    try:
        limit = value.replace(year=value.year + MAX_AGE_YEARS)
    except ValueError:  # 29 February
        limit = value.replace(year=value.year + MAX_AGE_YEARS, day=28)
    if limit <= today:
        raise ValueError(f"the child must be under {MAX_AGE_YEARS}")
    return value


NhsNumber = Annotated[
    str,
    Field(
        json_schema_extra={"pattern": NHS_NUMBER_PATTERN},
        description="10 digits with a valid modulus-11 check digit; `943 476 5919` and `943-476-5919` "
        "are read as `9434765919`",
    ),
    AfterValidator(_nhs_number),
]
Postcode = Annotated[
    str,
    Field(
        max_length=10,
        json_schema_extra={"pattern": POSTCODE_PATTERN},
        description="A UK postcode by format, any case and spacing (stored as upper case with one "
        "space, e.g. `SW1A 1AA`); whether it exists is not checked",
    ),
    AfterValidator(normalise_postcode),
]
DateOfBirth = Annotated[
    dt.date,
    Field(description="YYYY-MM-DD; not in the future, and the child is under 26"),
    AfterValidator(_date_of_birth),
]
NamePart = Annotated[str, Field(min_length=1, max_length=100, description="1-100 characters")]


class OtherName(StrictModel):
    given_names: NamePart | None = None
    family_name: NamePart | None = None

    @model_validator(mode="after")
    def _one_part(self) -> OtherName:
        if not self.given_names and not self.family_name:
            raise ValueError("give given_names, family_name or both")
        return self


class IdentityFields(StrictModel):
    given_names: NamePart
    family_name: NamePart
    date_of_birth: DateOfBirth
    sex: Sex | None = None
    nhs_number: NhsNumber | None = None
    postcode: Postcode | None = None

    @field_validator("given_names", "family_name")
    @classmethod
    def _has_letters(cls, v: str) -> str:
        if not any(ch.isalpha() for ch in v):
            raise ValueError("must contain letters")
        return v


class IdentityWithAliases(IdentityFields):
    other_names: list[OtherName] = Field(default_factory=list, max_length=10)
