from __future__ import annotations

import pytest
from signpost.matching import normalise_name
from signpost.matching.normalise import compact, name_parts, phonetic, postcode_compact, postcode_outward


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Olivia", "olivia"),
        ("  OLIVIA   GRACE ", "olivia grace"),
        ("Zoë", "zoe"),
        ("Chloé-Renée", "chloe renee"),
        ("O'Brien", "o brien"),
        ("O\u2019Brien", "o brien"),  # typographic apostrophe
        ("Smith--Jones", "smith jones"),
        ("Núñez", "nunez"),
        ("Łukasz Wiśniewski", "lukasz wisniewski"),
        ("Søren Ærø", "soren aero"),
        ("STRAßE", "strasse"),
        ("Mary-Jane St. John", "mary jane st john"),
        ("ǅemal", "dzemal"),
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_compact_and_parts_make_hyphen_space_and_run_together_agree() -> None:
    forms = {
        compact(normalise_name(s)) for s in ("Smith-Jones", "Smith Jones", "SmithJones", "smith - jones")
    }
    assert forms == {"smithjones"}
    assert name_parts(normalise_name("Smith-Jones")) == ("smithjones", "smith", "jones")
    assert name_parts(normalise_name("O'Brien")) == ("obrien", "brien")


def test_phonetic_codes_sound_alike() -> None:
    assert phonetic("catherine") == phonetic("kathryn")
    assert phonetic("stephen") == phonetic("steven")
    assert phonetic("mohammed") == phonetic("muhammad")
    assert phonetic("olivia") != phonetic("amelia")


def test_phonetic_falls_back_to_word_for_non_latin() -> None:
    assert phonetic("王") == "王"


def test_postcode_forms() -> None:
    assert postcode_compact("nw1 2ab") == "NW12AB"
    assert postcode_outward("NW1 2AB") == "NW1"
    assert postcode_outward("SW1A1AA") == "SW1A"
    assert postcode_compact(None) is None
    assert postcode_compact("   ") is None
