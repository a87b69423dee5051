"""The CD stack (infrastructure/pipeline/template.yaml): a deploy role that can create what
template.yaml declares, scoped to the application stack's names, and nothing else."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import cfnlint
import pytest

from infrastructure.cfn_yaml import load_template, translate_template
from tests.unit.test_template import TEMPLATE_PATH, as_list

PIPELINE = Path(__file__).resolve().parents[2] / "infrastructure" / "pipeline" / "template.yaml"
DEPLOY_POLICIES = (
    "DeployStackPolicy",
    "DeployComputePolicy",
    "DeployIdentityPolicy",
    "DeployEdgePolicy",
    "DeployDataPlanePolicy",
)
# Actions AWS authorizes only on "*" (or where the stack cannot know the id), and why each is needed.
STAR_ONLY = {
    "cloudformation:ValidateTemplate": "sam deploy validates the template",
    "lambda:CreateEventSourceMapping": "scoped by the lambda:FunctionArn condition",
    "lambda:UpdateEventSourceMapping": "scoped by the lambda:FunctionArn condition",
    "lambda:DeleteEventSourceMapping": "scoped by the lambda:FunctionArn condition",
    "lambda:GetEventSourceMapping": "mapping ids are random",
    "lambda:ListEventSourceMappings": "no resource-level permission",
    "logs:DescribeLogGroups": "no resource-level permission",
    "logs:DescribeMetricFilters": "no resource-level permission",
    "logs:CreateLogDelivery": "WAF logging to CloudWatch Logs",
    "logs:DeleteLogDelivery": "WAF logging to CloudWatch Logs",
    "logs:PutResourcePolicy": "WAF writes the log group's resource policy with the caller's rights",
    "logs:DeleteResourcePolicy": "its counterpart, when the WAF logging goes",
    "kms:ListAliases": "no resource-level permission",
    "logs:DescribeResourcePolicies": "WAF logging to CloudWatch Logs",
    "logs:PutQueryDefinition": "saved queries have no resource-level permission",
    "logs:DeleteQueryDefinition": "saved queries have no resource-level permission",
    "logs:DescribeQueryDefinitions": "saved queries have no resource-level permission",
    "kms:CreateKey": "scoped by the aws:RequestTag conditions",
    "cloudwatch:PutMetricData": "scoped by the cloudwatch:namespace condition",
}
# What creating each resource type of the application stack needs (CloudFormation calls these).
CREATES = {
    "AWS::KMS::Key": "kms:CreateKey",
    "AWS::KMS::Alias": "kms:CreateAlias",
    "AWS::DynamoDB::Table": "dynamodb:CreateTable",
    "AWS::SNS::Topic": "sns:CreateTopic",
    "AWS::SNS::Subscription": "sns:Subscribe",
    "AWS::SQS::Queue": "sqs:CreateQueue",
    "AWS::SQS::QueuePolicy": "sqs:SetQueueAttributes",
    "AWS::Logs::LogGroup": "logs:CreateLogGroup",
    "AWS::Logs::MetricFilter": "logs:PutMetricFilter",
    "AWS::Logs::QueryDefinition": "logs:PutQueryDefinition",
    "AWS::IAM::Role": "iam:CreateRole",
    "AWS::IAM::ManagedPolicy": "iam:CreatePolicy",
    "AWS::Lambda::Function": "lambda:CreateFunction",
    "AWS::Lambda::LayerVersion": "lambda:PublishLayerVersion",
    "AWS::Lambda::Permission": "lambda:AddPermission",
    "AWS::Lambda::EventSourceMapping": "lambda:CreateEventSourceMapping",
    "AWS::Events::Rule": "events:PutRule",
    "AWS::ApiGateway::RestApi": "apigateway:POST",
    "AWS::ApiGateway::Deployment": "apigateway:POST",
    "AWS::ApiGateway::Stage": "apigateway:POST",
    "AWS::ApiGateway::Account": "apigateway:PATCH",
    "AWS::ApiGateway::DomainName": "apigateway:POST",
    "AWS::ApiGateway::BasePathMapping": "apigateway:POST",
    "AWS::WAFv2::WebACL": "wafv2:CreateWebACL",
    "AWS::WAFv2::WebACLAssociation": "wafv2:AssociateWebACL",
    "AWS::WAFv2::LoggingConfiguration": "wafv2:PutLoggingConfiguration",
    "AWS::CloudWatch::Alarm": "cloudwatch:PutMetricAlarm",
    "AWS::CloudWatch::Dashboard": "cloudwatch:PutDashboard",
    "AWS::S3::Bucket": "s3:CreateBucket",
    "AWS::S3::BucketPolicy": "s3:PutBucketPolicy",
}


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    resources: dict[str, Any] = load_template(PIPELINE)["Resources"]
    return resources


def statements(pipeline: dict[str, Any], *holders: str) -> list[dict[str, Any]]:
    found = []
    for holder in holders:
        props = pipeline[holder]["Properties"]
        documents = (
            [props["PolicyDocument"]]
            if "PolicyDocument" in props
            else [p["PolicyDocument"] for p in props.get("Policies", [])]
        )
        for document in documents:
            found += as_list(document["Statement"])
    return found


def _resource_text(statement: dict[str, Any]) -> str:
    return json.dumps(statement["Resource"])


def test_the_deploy_role_is_assumable_only_from_its_github_environment(pipeline: dict[str, Any]) -> None:
    for role, environment in (
        ("DeployRole", "${Environment}"),
        ("AuditVerifierRole", "${Environment}-audit"),
    ):
        (trust,) = pipeline[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        condition = trust["Condition"]["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        subject = condition["token.actions.githubusercontent.com:sub"]["Fn::Sub"]
        assert subject == f"repo:${{GitHubOwner}}/${{GitHubRepository}}:environment:{environment}"
    assert {r["Ref"] for r in pipeline["DeployRole"]["Properties"]["ManagedPolicyArns"]} == set(
        DEPLOY_POLICIES
    )


def test_every_permission_is_scoped_to_the_stack_or_has_a_reason(pipeline: dict[str, Any]) -> None:
    holders = (*DEPLOY_POLICIES, "AuditVerifierRole")
    for statement in statements(pipeline, *holders):
        actions = as_list(statement["Action"])
        assert not [a for a in actions if a == "*" or a.endswith(":*")], statement.get("Sid")
        if statement["Effect"] == "Deny":
            continue
        text = _resource_text(statement)
        if as_list(statement["Resource"]) == ["*"]:
            assert set(actions) <= set(STAR_ONLY), f"{statement['Sid']}: {set(actions) - set(STAR_ONLY)} on *"
            continue
        scoped = (
            "signpost-${Environment}" in text
            or "ArtifactBucket" in text
            or "transform/Serverless-2016-10-31" in text
            or "parameter/signpost/${Environment}" in text
            or ("key/*" in text and statement["Condition"]["StringEquals"]["aws:ResourceTag/environment"])
            or "/restapis" in text
            or "/domainnames" in text
            or "/account" in text
            or "managedruleset" in text
            or "AWSServiceRoleForWAFV2Logging" in text
        )
        assert scoped, statement["Sid"]


def test_roles_can_only_be_passed_to_the_stacks_services(pipeline: dict[str, Any]) -> None:
    (passing,) = [
        s for s in statements(pipeline, "DeployIdentityPolicy") if "iam:PassRole" in as_list(s["Action"])
    ]
    assert set(passing["Condition"]["StringEquals"]["iam:PassedToService"]) == {
        "lambda.amazonaws.com",
        "apigateway.amazonaws.com",
    }
    attach = [
        s
        for s in statements(pipeline, "DeployIdentityPolicy")
        if "iam:AttachRolePolicy" in as_list(s["Action"])
    ]
    assert attach
    assert all("iam:PolicyARN" in s["Condition"]["ArnLike"] for s in attach)


def test_cd_never_deletes_a_table_and_touches_no_child_record(pipeline: dict[str, Any]) -> None:
    deny = [s for s in statements(pipeline, *DEPLOY_POLICIES) if s["Effect"] == "Deny"]
    assert any("dynamodb:DeleteTable" in as_list(s["Action"]) for s in deny)
    for statement in statements(pipeline, "DeployDataPlanePolicy", "AuditVerifierRole"):
        # The audit is verified against the sealer's heads table, the MAC key and the anchors.
        assert "RecordsTable" not in _resource_text(statement), statement["Sid"]
    verifier = {a for s in statements(pipeline, "AuditVerifierRole") for a in as_list(s["Action"])}
    assert {"kms:VerifyMac", "s3:ListBucketVersions", "s3:GetObjectVersion"} <= verifier
    assert not {"kms:GenerateMac", "s3:PutObject", "s3:DeleteObjectVersion"} & verifier
    reads = {a for s in statements(pipeline, "AuditVerifierRole") for a in as_list(s["Action"])}
    assert not {
        a
        for a in reads
        if a.startswith("dynamodb:") and a not in ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:Scan")
    }


def _granted(pipeline: dict[str, Any]) -> set[str]:
    return {
        a
        for s in statements(pipeline, *DEPLOY_POLICIES)
        if s["Effect"] == "Allow"
        for a in as_list(s["Action"])
    }


def test_the_deploy_role_can_create_every_resource_type_of_the_stack(pipeline: dict[str, Any]) -> None:
    kinds = {r["Type"] for r in translate_template(TEMPLATE_PATH)["Resources"].values()}
    unknown = kinds - set(CREATES)
    assert not unknown, f"new resource types: give the deploy role what creating them needs: {unknown}"
    granted = _granted(pipeline)
    assert {CREATES[k] for k in kinds} <= granted
    assert {
        "iam:PassRole",
        "kms:PutKeyPolicy",
        "kms:EnableKeyRotation",
        "lambda:PutFunctionConcurrency",
    } <= granted


def test_named_resources_fall_under_the_roles_scope() -> None:
    """Every name template.yaml gives starts with the stack's name, which the role's ARNs use."""
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    names = re.findall(
        r"(?:FunctionName|TopicName|QueueName|LogGroupName|LayerName|AliasName|DashboardName|Name)"
        r": !Sub (\S+)",
        text,
    )
    assert len(names) > 20
    for name in names:
        bare = name.split("#")[0].strip('"')
        assert re.search(r"(^|/|-)signpost-\$\{Environment\}", bare), name


def test_the_stack_tags_its_resources_for_the_key_conditions() -> None:
    config = tomllib.loads((Path(__file__).resolve().parents[2] / "samconfig.toml").read_text())
    for env in ("staging", "prod"):
        tags = dict(t.split("=") for t in config[env]["deploy"]["parameters"]["tags"].split())
        assert tags == {"service": "signpost", "environment": env}


# Permissions CloudFormation's resource handlers may need for features this stack does not use.
NOT_USED = {
    "dynamodb:*Replica": "no global tables",
    "dynamodb:*KinesisStreamingDestination": "no Kinesis streaming (the read handler's Describe is granted)",
    "kinesis:*": "no Kinesis",
    "dynamodb:ImportTable": "no import from S3",
    "dynamodb:DescribeImport": "no import from S3",
    "dynamodb:BatchWriteItem": "no import from S3",
    "dynamodb:DeleteItem": "no import from S3",
    "dynamodb:UpdateItem": "no import from S3",
    "s3:GetObjectMetadata": "no import from S3",
    "logs:CreateLogStream": "no import from S3 (its error log)",
    "logs:DescribeLogStreams": "no import from S3 (its error log)",
    "logs:PutLogEvents": "no import from S3 (its error log)",
    "dynamodb:*ResourcePolicy": "no table resource policy (the Get the read handler calls is granted)",
    "dynamodb:UpdateContributorInsights": "no contributor insights",
    "dynamodb:DeleteTable": "denied: CD never deletes a table",
    "iam:*GroupPolicy": "policies attach to roles only",
    "iam:*UserPolicy": "policies attach to roles only",
    "iam:*RolePermissionsBoundary": "no permissions boundary",
    "iam:DescribeOrganization": "WAF logs go to CloudWatch Logs",
    "ec2:*": "no VPC for the functions; the WAF protects only API Gateway",
    "elasticfilesystem:*": "no file system",
    "s3files:*": "no file system",
    "lambda:*CodeSigningConfig": "no code signing (the Get the read handler calls is granted)",
    "lambda:PublishVersion": "no published versions",
    "lambda:AssociateRuntimeAlias": "no aliases",
    "lambda:PassCapacityProvider": "no capacity providers",
    "lambda:PutFunctionScalingConfig": "no capacity providers",
    "firehose:*": "logs go to CloudWatch Logs",
    "s3:REST.PUT.OBJECT": "logs go to CloudWatch Logs",
    "s3:DeleteBucketPolicy": "denied: the anchor bucket's TLS-only policy stays",
    "s3:DeleteBucket": "denied: the audit anchors are retained",
    "s3:DeleteObject": "denied: the audit anchors are retained (and locked)",
    "s3:*BucketMetadata*": "no S3 metadata tables (the Get the read handler calls is granted)",
    "s3tables:*": "no S3 tables",
    "s3:PutObjectLockConfiguration": "not an IAM action (s3:PutBucketObjectLockConfiguration is granted)",
    "s3:*Replication*": "anchors stay in one region (the Get is granted)",
    "s3:*Website*": "no website (the Get is granted)",
    "s3:*BucketC[Oo][Rr][Ss]": "no CORS (the Get is granted)",
    "s3:*Analytics*": "no analytics (the Get is granted)",
    "s3:*IntelligentTiering*": "no tiering (the Get is granted)",
    "s3:*Inventory*": "no inventory (the Get is granted)",
    "s3:*Metrics*": "no request metrics (the Get is granted)",
    "s3:*Accelerate*": "no transfer acceleration (the Get is granted)",
    "s3:PutBucketLogging": "access is recorded by CloudTrail (the Get is granted)",
    "s3:PutBucketAbac": "no attribute-based access control (the Get is granted)",
    "s3:*Acl": "ACLs are disabled (BucketOwnerEnforced; the Get is granted)",
    "s3:DeleteBucketEncryption": "encryption is never removed",
    "s3:DeleteBucketLifecycle": "the lifecycle rule is never removed",
    "logs:*DataProtectionPolicy": "not set by the template (the Get is granted)",
    "logs:*IndexPolicy": "not set by the template (the Describe is granted)",
    "logs:PutBearerTokenAuthentication": "not set by the template",
    "logs:PutLogGroupDeletionProtection": "not set by the template",
    "sns:PutDataProtectionPolicy": "not set by the template",
    "payments:*": "not used",
    "amplify:*": "the WAF protects only API Gateway",
    "apprunner:*": "the WAF protects only API Gateway",
    "appsync:*": "the WAF protects only API Gateway",
    "bedrock-agentcore:*": "the WAF protects only API Gateway",
    "cognito-idp:*": "the WAF protects only API Gateway",
    "elasticloadbalancing:*": "the WAF protects only API Gateway",
    "wafv2:*PermissionPolicy": "no Firewall Manager sharing",
}


def handler_permissions(kind: str) -> set[str]:
    """What CloudFormation's handler for `kind` may call (create, update, delete, read), from the
    resource schemas cfn-lint ships."""
    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    providers = json.loads((schemas / "providers" / "eu-west-2.json").read_text(encoding="utf-8"))
    schema = json.loads((schemas / "resources" / f"{providers[kind]}.json").read_text(encoding="utf-8"))
    handlers = schema.get("handlers", {})
    return {
        p
        for op in ("create", "update", "delete", "read")
        for p in handlers.get(op, {}).get("permissions", [])
    }


def test_the_deploy_role_has_what_cloudformations_handlers_call(pipeline: dict[str, Any]) -> None:
    granted = _granted(pipeline)
    kinds = {r["Type"] for r in translate_template(TEMPLATE_PATH)["Resources"].values()}
    for kind in sorted(kinds):
        missing = {
            p for p in handler_permissions(kind) if not any(fnmatch.fnmatchcase(p, g) for g in granted)
        }
        unexplained = {p for p in missing if not any(fnmatch.fnmatchcase(p, n) for n in NOT_USED)}
        assert not unexplained, f"{kind}: the deploy role lacks {sorted(unexplained)}"
