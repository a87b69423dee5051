"""Deployable anywhere: the stack fits a new account's Lambda quota, samconfig.toml holds no
placeholder, and the parameters of a deployment come from the deploy environment, checked."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infrastructure.cfn_yaml import load_template, translate_template
from scripts import deploy_parameters, rollback
from tests.unit.test_template import TEMPLATE_PATH

REPO = Path(__file__).resolve().parents[2]
SAMCONFIG = REPO / "samconfig.toml"
UNRESERVED_MINIMUM = 100  # Lambda keeps this much of the account's quota unreserved
NEW_ACCOUNT_QUOTA = 10
PROD_QUOTA = 1000  # what docs/runbook.md asks for before the first prod deployment
ACCOUNT = {
    "SIGNPOST_JWT_ISSUER": "https://login.signpost.service.gov.uk/",
    "SIGNPOST_JWT_AUDIENCE": "signpost",
    "SIGNPOST_JWKS_URL": "https://login.signpost.service.gov.uk/.well-known/jwks.json",
}


def _condition_values(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, bool]:
    values = {n: parameters.get(n, str(p.get("Default", ""))) for n, p in template["Parameters"].items()}

    def evaluate(node: Any) -> Any:
        if isinstance(node, dict):
            (key, arg), *_ = node.items()
            if key == "Ref":
                return values[arg]
            if key == "Fn::Equals":
                return str(evaluate(arg[0])) == str(evaluate(arg[1]))
            if key == "Fn::Not":
                return not evaluate(arg[0])
            if key == "Fn::And":
                return all(evaluate(a) for a in arg)
            if key == "Fn::Or":
                return any(evaluate(a) for a in arg)
            if key == "Condition":
                return conditions[arg]
            raise AssertionError(f"unexpected {key} in a condition")
        return node

    conditions: dict[str, bool] = {}
    for name, body in template["Conditions"].items():
        conditions[name] = bool(evaluate(body))
    return conditions


def reserved_concurrency(parameters: dict[str, str]) -> dict[str, int]:
    """Reserved concurrency per Lambda function of the transformed stack, for these parameters."""
    template = translate_template(TEMPLATE_PATH)
    conditions = _condition_values(load_template(TEMPLATE_PATH), parameters)
    values = {n: parameters.get(n, str(p.get("Default", ""))) for n, p in template["Parameters"].items()}
    reserved: dict[str, int] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function" or not conditions.get(
            resource.get("Condition", ""), True
        ):
            continue
        assert "ProvisionedConcurrencyConfig" not in resource["Properties"]
        value = resource["Properties"].get("ReservedConcurrentExecutions")
        if isinstance(value, dict) and "Fn::If" in value:
            condition, if_true, if_false = value["Fn::If"]
            value = if_true if conditions[condition] else if_false
        if isinstance(value, dict) and value.get("Ref") == "AWS::NoValue":
            continue
        if isinstance(value, dict) and "Ref" in value:
            value = values[value["Ref"]]
        if value is not None:
            reserved[name] = int(value)
    assert len([r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]) >= 7
    return reserved


def samconfig_overrides(env: str) -> dict[str, str]:
    return deploy_parameters.samconfig_parameters(env)


# ---------------------------------------------------------------------- the Lambda quota


def test_the_stack_can_be_created_in_an_account_with_a_quota_of_10() -> None:
    reserved = reserved_concurrency({"Environment": "staging"})
    assert sum(reserved.values()) <= max(0, NEW_ACCOUNT_QUOTA - UNRESERVED_MINIMUM)
    assert reserved == {}  # no reserved concurrency by default


def test_staging_reserves_nothing_and_prod_fits_the_quota_it_asks_for() -> None:
    assert reserved_concurrency(samconfig_overrides("staging")) == {}
    prod = reserved_concurrency(samconfig_overrides("prod"))
    assert prod == {
        "AuthorizerFunction": 50, "RecordsFunction": 50, "SearchFunction": 100, "TransfersFunction": 20,
        "InboxFunction": 20, "ClockFunction": 1,
    }  # fmt: skip
    assert sum(prod.values()) + UNRESERVED_MINIMUM <= PROD_QUOTA
    runbook = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")
    assert str(sum(prod.values()) + UNRESERVED_MINIMUM) in runbook  # the runbook names the minimum quota


# ---------------------------------------------------------------------- samconfig.toml


def _values(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for inner in node.values() for v in _values(inner)]
    if isinstance(node, list):
        return [v for inner in node for v in _values(inner)]
    return [str(node)]


def test_no_placeholder_remains_in_samconfig() -> None:
    config = tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))
    for value in _values(config):
        assert not deploy_parameters.PLACEHOLDER.search(value), value
    text = SAMCONFIG.read_text(encoding="utf-8")
    body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert "<" not in body
    assert ">" not in body


@pytest.mark.parametrize(
    "placeholder",
    [
        "JwtIssuer=https://<staging-identity-provider>/",
        "AlarmEmail=<signpost-alerts@example.gov.uk>",
        "CertificateArn=<arn:aws:acm:eu-west-2:111122223333:certificate/...>",
        "DomainName=api.signpost.example.gov.uk",
    ],
)
def test_the_placeholder_check_catches_the_old_values(placeholder: str) -> None:
    assert deploy_parameters.PLACEHOLDER.search(placeholder)


def test_samconfig_leaves_the_account_parameters_to_the_environment() -> None:
    for env in ("staging", "prod"):
        overrides = samconfig_overrides(env)
        assert not set(overrides) & set(deploy_parameters.ACCOUNT_PARAMETERS), env
        assert overrides["Environment"] == env
    config = tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))
    for env in ("staging", "prod"):
        assert (
            "resolve_s3" not in config[env]["deploy"]["parameters"]
        )  # the pipeline's bucket, or --resolve-s3


# ---------------------------------------------------------------------- deploy parameters


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_a_deployment_gets_every_parameter_checked(env: str) -> None:
    values = deploy_parameters.parameters(env, ACCOUNT)
    template = load_template(TEMPLATE_PATH)["Parameters"]
    assert set(values) == set(template)  # explicit: nothing left over from an earlier deployment
    assert values["JwtIssuer"] == ACCOUNT["SIGNPOST_JWT_ISSUER"]
    assert values["AlarmEmail"] == values["DomainName"] == ""  # empty means none
    if env == "staging":
        assert values["SearchReservedConcurrency"] == ""


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "JwtIssuer is required"),
        ({**ACCOUNT, "SIGNPOST_JWT_ISSUER": "https://<idp>/"}, "placeholder"),
        ({**ACCOUNT, "SIGNPOST_JWT_ISSUER": "http://login/"}, "does not match"),
        (
            {**ACCOUNT, "SIGNPOST_DOMAIN_NAME": "api.signpost.service.gov.uk"},
            "DomainName needs CertificateArn",
        ),
        ({**ACCOUNT, "SIGNPOST_JWT_AUDIENCE": ""}, "JwtAudience must not be empty"),
    ],
)
def test_a_deployment_with_a_bad_parameter_stops(environ: dict[str, str], message: str) -> None:
    with pytest.raises(deploy_parameters.ParameterError, match=message):
        deploy_parameters.parameters("staging", environ)


def test_ssm_parameters_count_when_the_environment_has_none() -> None:
    ssm = {
        "JwtIssuer": "https://idp.signpost.service.gov.uk/",
        "JwtAudience": "signpost",
        "JwksUrl": "https://idp.signpost.service.gov.uk/jwks",
    }
    values = deploy_parameters.parameters("prod", {"SIGNPOST_JWT_AUDIENCE": "from-env"}, ssm)
    assert (values["JwtIssuer"], values["JwtAudience"]) == (ssm["JwtIssuer"], "from-env")


def test_overrides_are_quoted_so_empty_means_empty() -> None:
    assert deploy_parameters.override("AlarmEmail", "") == 'AlarmEmail=""'
    assert deploy_parameters.override("X", 'a "b"') == 'X="a \\"b\\""'


# ---------------------------------------------------------------------- rollback


def test_rollback_saves_the_deployed_template_and_redeploys_it(tmp_path: Path) -> None:
    client = boto3.client("cloudformation", region_name="eu-west-2")
    stubber = Stubber(client)
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "signpost-staging",
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                    "Parameters": [{"ParameterKey": "Environment", "ParameterValue": "staging"}],
                    "Tags": [{"Key": "service", "Value": "signpost"}],
                    "Capabilities": ["CAPABILITY_IAM"],
                }
            ]
        },
        {"StackName": "signpost-staging"},
    )
    stubber.add_response(
        "get_template",
        {"TemplateBody": "Transform: AWS::Serverless-2016-10-31\n"},
        {"StackName": "signpost-staging", "TemplateStage": "Original"},
    )
    with stubber:
        assert rollback.save("signpost-staging", tmp_path, client) is True
    command = rollback.restore_command("signpost-staging", tmp_path, "artefacts-bucket")
    assert command is not None
    assert command[:2] == ["sam", "deploy"]
    assert command[command.index("--template-file") + 1] == str(tmp_path / "previous-template.yaml")
    assert 'Environment="staging"' in command
    assert "--no-confirm-changeset" in command
    assert command[command.index("--s3-bucket") + 1] == "artefacts-bucket"
    assert (tmp_path / "previous-template.yaml").read_text().startswith("Transform:")


def test_a_first_deployment_has_nothing_to_roll_back_to(tmp_path: Path) -> None:
    client = boto3.client("cloudformation", region_name="eu-west-2")
    stubber = Stubber(client)
    stubber.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id signpost-prod does not exist", 400
    )
    with stubber:
        assert rollback.save("signpost-prod", tmp_path, client) is False
    assert json.loads((tmp_path / "previous.json").read_text()) == {"exists": False}
    assert rollback.restore_command("signpost-prod", tmp_path, None) is None


def test_samconfig_sections_name_their_stack() -> None:
    config = tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))
    for env in ("staging", "prod"):
        section = config[env]["deploy"]["parameters"]
        assert section["stack_name"] == f"signpost-{env}"
        assert re.fullmatch(
            rf"service=signpost environment={env}", section["tags"]
        )  # the deploy role's KMS scope
