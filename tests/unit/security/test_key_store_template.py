"""Who may make, read and use branch keys, as template.yaml deploys it (read as data, offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from signpost.dal.kms import BRANCH_KEY_PURPOSE, branch_key_context

from infrastructure.cfn_yaml import load_template
from tests.unit.test_template import function_role, key_policy, principals, role_statements

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
FORMAT_ONE_PURPOSE = "signpost-identity"


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(load_template(TEMPLATE)["Resources"])


def _key_store_actions(resources: dict[str, Any]) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    for holder, statement in role_statements(resources):
        targets = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if {"Fn::GetAtt": ["KeyStoreTable", "Arn"]} in targets:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            granted.setdefault(holder, set()).update(actions)
    return granted


# The functions that seal or open identity fields: registration (API and bulk import) and search.
SEALERS = ("RecordsFunction", "SearchFunction", "ImportWorkerFunction")


def test_only_the_clock_writes_the_key_store_and_only_sealers_read_it(resources: dict[str, Any]) -> None:
    role = {f: function_role(resources, f) for f in (*SEALERS, "ClockFunction")}
    assert _key_store_actions(resources) == {
        role["RecordsFunction"]: {"dynamodb:GetItem"},
        role["SearchFunction"]: {"dynamodb:GetItem"},
        role["ImportWorkerFunction"]: {"dynamodb:GetItem"},
        role["ClockFunction"]: {"dynamodb:GetItem", "dynamodb:PutItem"},
    }


def test_every_use_of_the_data_key_is_bound_to_its_purpose(resources: dict[str, Any]) -> None:
    role = {f: function_role(resources, f) for f in (*SEALERS, "ClockFunction")}
    uses: set[tuple[str, str, str]] = set()
    for statement in key_policy(resources, "DataKey"):
        if principals(statement) == {"root"}:
            continue  # administration only (test_template checks it has no data use)
        purpose = statement["Condition"]["StringEquals"]["kms:EncryptionContext:purpose"]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        uses |= {(p, a, purpose) for p in principals(statement) for a in actions}
    assert uses == {
        (role["ClockFunction"], "kms:GenerateDataKeyWithoutPlaintext", BRANCH_KEY_PURPOSE),
        *((role[f], "kms:Decrypt", BRANCH_KEY_PURPOSE) for f in SEALERS),
        *((role[f], "kms:Decrypt", FORMAT_ONE_PURPOSE) for f in SEALERS),
    }
    assert branch_key_context("00" * 16)["purpose"] == BRANCH_KEY_PURPOSE


def test_the_key_store_is_kept_like_the_records(resources: dict[str, Any]) -> None:
    table = resources["KeyStoreTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert "TimeToLiveSpecification" not in table["Properties"]  # a version is never removed
    assert "StreamSpecification" not in table["Properties"]
