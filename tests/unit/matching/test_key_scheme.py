"""The blind-index key scheme is pinned: what its keys depend on cannot change unnoticed.

If a test here fails, a change made some blocking keys different: enrolled children would
stop meeting their searches under those keys. Bump KEY_SCHEME_VERSION, register the new
scheme (matching/key_scheme.py), record the new figures below under the new version, and
re-index (`signpost-admin reindex --to <version>`, README "Changing the key scheme").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib import resources

from signpost.crypto.blind_index import BlindIndexer
from signpost.logic import records, search
from signpost.logic.identity import read_versions, write_version
from signpost.matching import MatchIdentity, Name
from signpost.matching.key_scheme import KEY_SCHEME_VERSION, MAX_RECORD_KEYS, SCHEMES, key_scheme
from signpost.matching.nickname_table import NICKNAME_FILES
from signpost.matching.normalise import compact, normalise_name, phonetic
from signpost.models.children import CloseRequest, RegisterRequest, UpdateRequest
from signpost.models.search import SearchRequest
from signpost.settings import Settings

from tests.support.identities import OTHER_TEN_ALIASES
from tests.unit.logic.conftest import AMELIA, CAMDEN, ROYAL_FREE, register_body, search_body
from tests.unit.logic.fakes import make_services

# Per scheme version: the data files' SHA-256 (text, LF line ends).
_NICKNAMES_1 = {
    "nicknames_us_en.csv": "6560d72da8af864817993d868edb413ced4b32b6a9b239f4605f79384a1bf316",
    "nicknames_en_gb.csv": "68422657c9f6c68babde2f7e769bfd7fcf8547ec9f9ae82086e518db2a66c39c",
}
DATA_CHECKSUMS = {1: _NICKNAMES_1, 2: _NICKNAMES_1}
# Metaphone codes (jellyfish, through normalise.phonetic) of a fixed word list.
PHONETIC_CODES = {
    "oliver": "OLFR",
    "amelia": "AML",
    "muhammad": "MHMT",
    "mohammed": "MHMT",
    "siobhan": "XBHN",
    "niamh": "NMH",
    "aoife": "AF",
    "wojciech": "WJSX",
    "nguyen": "NKYN",
    "xavier": "SFR",
    "thompson": "0MPSN",
    "thomson": "0MSN",
    "knight": "NT",
    "night": "NT",
    "phoebe": "FB",
    "schmidt": "SXMTT",
    "smith": "SM0",
    "smyth": "SM0",
    "mcdonald": "MKTNLT",
    "macdonald": "MKTNLT",
    "o'brien": "OBRN",
    "fitzgerald": "FTSJRLT",
    "achterberg": "AXTRBRK",
    "wisniewska": "WSNSK",
    "dsouza": "TSS",
    "chloe": "XL",
    "khloe": "KHL",
    "caoimhe": "KMH",
    "bartholomew": "BR0LM",
    "aaliyah": "LY",
}
NORMALISED = {
    "ZOË": "zoe",
    "Wiśniewska-Hart": "wisniewska hart",
    "O'Connor-Smith": "o connor smith",
    "Łukasz": "lukasz",
    "Søren": "soren",
    "Æthelred": "aethelred",
    "straße": "strasse",
    "D\u2019Souza": "d souza",
    "Ruairí  Ó Briain": "ruairi o briain",
}
FIXED = [
    MatchIdentity("Alfie James", "Hartley-Mensah", dt.date(2015, 3, 8), "male", "9434765919", "NW1 2AB"),
    MatchIdentity(
        "Zoë",
        "O'Brien",
        dt.date(2011, 12, 1),
        None,
        None,
        "E8 1DY",
        (Name("Zoe", "Byrne"), Name("", "Walsh")),
    ),
    MatchIdentity("Muhammad", "Khan", dt.date(2019, 7, 4), "male", None, None),
]
# Per scheme version: SHA-256 of the record keys, search keys and identity guard key of FIXED.
KEYS_DIGEST = {
    1: "9b3a940873fa721adee9cfd1a8fe2b55cb99a2c4bb70e931efa63c91cd393441",
    2: "e91e8f217818ee0c375cbc5b5abb71615efa5a4abec252a090af4b0f82c2248e",  # + ym, di, nm families
}


def test_nickname_data_checksums_pin_the_key_scheme() -> None:
    for name in NICKNAME_FILES:
        text = resources.files("signpost.matching").joinpath("data", name).read_text(encoding="utf-8")
        digest = hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()
        assert digest == DATA_CHECKSUMS[KEY_SCHEME_VERSION][name], f"{name} changed: a new key scheme version"


def test_phonetic_codes_of_a_fixed_word_list_pin_the_key_scheme() -> None:
    codes = {word: phonetic(compact(normalise_name(word))) for word in PHONETIC_CODES}
    assert codes == PHONETIC_CODES


def test_normalisation_of_fixed_names_pins_the_key_scheme() -> None:
    assert {raw: normalise_name(raw) for raw in NORMALISED} == NORMALISED


def _keys_digest(version: int) -> str:
    scheme = key_scheme(version)
    keys = [
        [list(scheme.ranked_record_keys(i)), list(scheme.ranked_search_keys(i)), scheme.identity_guard_key(i)]
        for i in FIXED
    ]
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()


def test_keys_of_fixed_identities_pin_the_key_scheme() -> None:
    assert _keys_digest(KEY_SCHEME_VERSION) == KEYS_DIGEST[KEY_SCHEME_VERSION], (
        "blocking keys changed: bump KEY_SCHEME_VERSION"
    )


def test_every_registered_older_version_still_makes_the_keys_it_made() -> None:
    # Records indexed under an older version are found through it until the re-index is done.
    for version in SCHEMES:
        assert _keys_digest(version) == KEYS_DIGEST[version], version


def test_the_written_version_is_registered_and_labels_its_keys() -> None:
    assert KEY_SCHEME_VERSION in SCHEMES
    assert (
        key_scheme(KEY_SCHEME_VERSION).label("nd:SM0|2015-03-08")
        == f"v{KEY_SCHEME_VERSION}|nd:SM0|2015-03-08"
    )


class RecordingIndexer(BlindIndexer):
    def __init__(self, inner: BlindIndexer) -> None:
        super().__init__(inner._source)  # the same derived key
        self.inputs: list[str] = []

    def index(self, blocking_key: str) -> str:
        self.inputs.append(blocking_key)
        return super().index(blocking_key)


def test_every_blind_index_carries_the_scheme_version() -> None:
    services, _, _, _ = make_services()
    recorder = RecordingIndexer(services.indexer)
    services.indexer = recorder
    body = register_body({**AMELIA, "other_names": [{"family_name": "Byrne"}]})
    child_id = records.register(services, CAMDEN, RegisterRequest.model_validate(body), None).body["child_id"]
    search.search(services, ROYAL_FREE, SearchRequest.model_validate(search_body(AMELIA)))
    records.update_child(services, CAMDEN, child_id, UpdateRequest.model_validate({"family_name": "Walsh"}))
    records.close_child(services, CAMDEN, child_id, CloseRequest(reason="moved_abroad"))
    assert recorder.inputs
    # The NHS number's uniqueness guard is the one exception: one value per NHS number for good.
    versioned = [k for k in recorder.inputs if not k.startswith("guard:nhs:")]
    assert versioned
    # Searches read every registered version; what is written carries the current one.
    labels = tuple(f"v{version}|" for version in SCHEMES)
    assert all(k.startswith(labels) for k in versioned), versioned[:3]
    assert any(k.startswith(f"v{KEY_SCHEME_VERSION}|") for k in versioned)


def test_record_keys_are_capped_and_every_alias_keeps_keys_of_its_own() -> None:
    aliases = tuple(Name(a["given_names"], a["family_name"]) for a in OTHER_TEN_ALIASES)
    child = MatchIdentity(
        "Aleksandra Teresa",
        "Brzeczyszczykiewicz-Lloyd",
        dt.date(2012, 2, 29),
        "female",
        None,
        "SW1A 1AA",
        aliases,
    )
    scheme = key_scheme(KEY_SCHEME_VERSION)
    keys = scheme.ranked_record_keys(child)
    assert len(keys) == MAX_RECORD_KEYS
    for alias in aliases:
        searched = MatchIdentity(alias.given_names, alias.family_name, child.date_of_birth)
        assert set(scheme.ranked_search_keys(searched)) & set(keys), alias
    # Without aliases, nothing of an ordinary identity is cut.
    plain = FIXED[0]
    assert set(scheme.ranked_record_keys(plain)) == set(scheme.record_keys(plain))


def test_a_new_version_is_written_while_every_registered_version_is_read(monkeypatch) -> None:
    monkeypatch.setitem(SCHEMES, KEY_SCHEME_VERSION + 1, key_scheme(KEY_SCHEME_VERSION))
    newer = Settings(BLIND_INDEX_WRITE_VERSION=KEY_SCHEME_VERSION + 1)
    assert write_version(newer) == KEY_SCHEME_VERSION + 1
    assert read_versions(newer) == tuple(sorted(SCHEMES))  # every registered version, the new one too
    assert read_versions(newer)[-2:] == (KEY_SCHEME_VERSION, KEY_SCHEME_VERSION + 1)
    only_new = Settings(BLIND_INDEX_WRITE_VERSION=KEY_SCHEME_VERSION + 1, BLIND_INDEX_READ_VERSIONS=" 2 ,2")
    assert read_versions(only_new) == (2,)
    assert write_version(Settings()) == KEY_SCHEME_VERSION
