"""Least privilege inside the records table: per function, which item families (partition-key
prefixes) its role may write, and how - read from template.yaml and compared with the expected
table (tests/support/item_families.py), itself checked against docs/DESIGN.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.iam import ItemRequest, RolePolicies
from tests.support.item_families import ATTRIBUTE_LIMITS, FAMILIES, WRITE_ACTIONS, WRITERS

DESIGN = Path(__file__).resolve().parents[2] / "docs" / "DESIGN.md"


@pytest.fixture(scope="module")
def policies() -> RolePolicies:
    return RolePolicies()


def _request(action: str, family: str, attributes: set[str] | None = None, **kw: str) -> ItemRequest:
    return ItemRequest(
        action=action,
        table="RecordsTable",
        leading_key=FAMILIES[family].example(),
        attributes=frozenset(attributes or ()),
        **kw,  # type: ignore[arg-type]
    )


def writable(policies: RolePolicies, function: str) -> dict[str, set[str]]:
    """family -> write actions the function's role allows on it (attributes within its limits)."""
    granted: dict[str, set[str]] = {}
    for family in FAMILIES:
        for action in WRITE_ACTIONS:
            attributes = ATTRIBUTE_LIMITS.get((function, family, action), {"pk", "sk"})
            if policies.allows(function, _request(action, family, attributes)):
                granted.setdefault(family, set()).add(action)
    return granted


@pytest.mark.parametrize("function", sorted(WRITERS))
def test_each_function_writes_only_its_own_item_families(policies: RolePolicies, function: str) -> None:
    assert writable(policies, function) == WRITERS[function]


def test_no_compromised_inbox_or_notifier_can_rewrite_a_childs_record(policies: RolePolicies) -> None:
    for function in ("InboxFunction", "NotifierFunction", "SearchFunction", "ClockFunction"):
        for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
            for attributes in ({"pk", "sk", "org"}, {"pk", "sk", "shielding"}):
                assert not policies.allows(function, _request(action, "child", attributes)), (
                    function,
                    action,
                )


@pytest.mark.parametrize(("function", "family", "action"), sorted(ATTRIBUTE_LIMITS))
def test_attribute_limited_writers_touch_nothing_else(
    policies: RolePolicies, function: str, family: str, action: str
) -> None:
    limit = ATTRIBUTE_LIMITS[(function, family, action)]
    assert policies.allows(function, _request(action, family, limit))
    for other in ("status", "type", "to_org", "org", "child_id", "transfer_id"):
        assert other not in limit
        assert not policies.allows(function, _request(action, family, limit | {other})), other
    # ... and never the whole item back (ALL_NEW would read every attribute).
    assert not policies.allows(function, _request(action, family, limit, return_values="ALL_NEW"))


def test_every_write_grant_on_the_records_table_names_its_item_families(policies: RolePolicies) -> None:
    template = policies.template
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                targets = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                actions = set(
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                if {"Fn::GetAtt": ["RecordsTable", "Arn"]} in targets and actions & set(WRITE_ACTIONS):
                    leading = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
                    assert leading.get("dynamodb:LeadingKeys"), f"{name}/{statement.get('Sid')}"


def test_the_design_notes_list_every_item_family() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("### Items in the records table", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    documented = {re.findall(r"`([^`<]+)", row.split("|")[2])[0] for row in rows}
    assert documented == {f.prefix for f in FAMILIES.values()}
