"""Security and wiring properties of template.yaml, read as data (no AWS needed)."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from signpost.errors import status_phrase
from signpost.logic.imports import UPLOAD_KEPT

from infrastructure.cfn_yaml import load_template, translate_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

TABLES = (
    "RecordsTable",
    "AuditTable",
    "AuditHeadsTable",
    "IdempotencyTable",
    "DirectoryTable",
    "KeyStoreTable",
)
FUNCTIONS = {
    "AuthorizerFunction": "authorizer",
    "RecordsFunction": "records",
    "SearchFunction": "search",
    "TransfersFunction": "transfers",
    "InboxFunction": "inbox",
    "NotifierFunction": "notifier",
    "ClockFunction": "clock",
    "AuditSealerFunction": "audit_sealer",
    "ImportsFunction": "imports",
    "ImportWorkerFunction": "import_worker",
}
# Functions on a DynamoDB stream: Lambda runs one concurrent batch per shard, so a reserved
# concurrency below the shard count starves shards (none, or at least the shard count).
STREAM_CONSUMERS = {"NotifierFunction", "AuditSealerFunction"}
# API.md's routes -> the function that serves them.
ROUTES = {
    ("POST", "/v1/children"): "RecordsFunction",
    ("GET", "/v1/children/{child_id}"): "RecordsFunction",
    ("PATCH", "/v1/children/{child_id}"): "RecordsFunction",
    ("POST", "/v1/children/{child_id}/close"): "RecordsFunction",
    ("GET", "/v1/children/{child_id}/access-log"): "RecordsFunction",
    ("GET", "/v1/children/{child_id}/subject-access-report"): "RecordsFunction",
    ("POST", "/v1/searches"): "SearchFunction",
    ("POST", "/v1/searches/{search_id}/break-glass"): "SearchFunction",
    ("POST", "/v1/children/{child_id}/transfers"): "TransfersFunction",
    ("GET", "/v1/transfers"): "TransfersFunction",
    ("POST", "/v1/transfers/{transfer_id}/acknowledge"): "TransfersFunction",
    ("POST", "/v1/transfers/{transfer_id}/accept"): "TransfersFunction",
    ("POST", "/v1/transfers/{transfer_id}/decline"): "TransfersFunction",
    ("POST", "/v1/transfers/{transfer_id}/withdraw"): "TransfersFunction",
    ("GET", "/v1/notifications"): "InboxFunction",
    ("POST", "/v1/notifications/{notification_id}/read"): "InboxFunction",
    ("GET", "/v1/organisations/{code}"): "InboxFunction",
    ("PUT", "/v1/organisations/{code}"): "InboxFunction",
    ("GET", "/health"): "InboxFunction",
    ("GET", "/openapi.json"): "InboxFunction",
    ("POST", "/v1/imports"): "ImportsFunction",
    ("GET", "/v1/imports"): "ImportsFunction",
    ("GET", "/v1/imports/{import_id}"): "ImportsFunction",
}
PUBLIC_ROUTES = {("GET", "/health"), ("GET", "/openapi.json")}
ENV_VARS = {
    "RECORDS_TABLE", "AUDIT_TABLE", "IDEMPOTENCY_TABLE", "DIRECTORY_TABLE", "KEY_STORE_TABLE", "DATA_KEY_ID",
    "HMAC_KEY_ID",
    "JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URL", "POLICE_SEARCHES_PER_HOUR", "RETENTION_DAYS",
    "NOTIFICATIONS_TOPIC_ARN", "SIGNPOST_ENV", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL", "BLIND_INDEX_WRITE_VERSION", "BLIND_INDEX_READ_VERSIONS",
}  # fmt: skip
# Actions AWS authorizes only on Resource "*" (no resource-level permissions).
STAR_RESOURCE_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
AUDIT_FORBIDDEN = {
    "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
}  # fmt: skip
KMS_DATA_USE = {
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateMac", "kms:VerifyMac",
    "kms:CreateGrant",
}  # fmt: skip


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def refs(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, GetAtt, ${X} / ${X.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner.split(".")[0])
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
                if isinstance(inner, list):
                    found |= refs(inner[1])
            else:
                found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return {f for f in found if not f.startswith("AWS::")}


def expand(actions: list[str], universe: set[str]) -> set[str]:
    """Actions of `universe` matched by the (possibly wildcard) actions of a statement."""
    return {a for a in universe for pattern in actions if fnmatch.fnmatchcase(a, pattern)}


def role_statements(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(policy holder logical id, statement) for every identity policy in the template."""
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        documents = []
        if kind == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [props["PolicyDocument"]]
        elif kind == "AWS::Serverless::Function":
            policies = as_list(props.get("Policies", []))
            documents = [p for p in policies if isinstance(p, dict) and "Statement" in p]
        for document in documents:
            for statement in as_list(document["Statement"]):
                yield logical_id, statement


def statements_of_role(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Inline statements of a role plus those of customer-managed policies attached to it."""
    attached = refs(resources[role]["Properties"].get("ManagedPolicyArns", []))
    return [s for holder, s in role_statements(resources) if holder == role or holder in attached]


def function_role(resources: dict[str, Any], function: str) -> str:
    (role,) = refs(resources[function]["Properties"]["Role"])
    return role


def key_policy(resources: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return as_list(resources[key]["Properties"]["KeyPolicy"]["Statement"])


def principals(statement: dict[str, Any]) -> set[str]:
    """Role logical ids, or 'root' / 'service:<name>', a key policy statement names."""
    names: set[str] = set()
    principal = statement["Principal"]
    for arn in as_list(principal.get("AWS", [])):
        names |= {"root"} if ":root" in json.dumps(arn) else refs(arn)
    names |= {f"service:{json.dumps(s)}" for s in as_list(principal.get("Service", []))}
    return names


def who_may(resources: dict[str, Any], key: str, action: str) -> set[str]:
    """Principals a key policy allows `action` (conditions aside)."""
    return {
        p
        for s in key_policy(resources, key)
        if s["Effect"] == "Allow" and expand(as_list(s["Action"]), KMS_DATA_USE) & {action}
        for p in principals(s)
    }


def api_events(resources: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] == "Api":
                yield logical_id, name, event["Properties"]


# ------------------------------------------------------------------ the file itself


def test_no_yaml_anchors_or_aliases() -> None:
    # CloudFormation rejects YAML aliases; keep the template plain.
    tokens = yaml.scan(TEMPLATE_PATH.read_text(encoding="utf-8"))
    assert not [t for t in tokens if isinstance(t, yaml.AnchorToken | yaml.AliasToken)]


def test_every_checkov_skip_has_a_reason(resources: dict[str, Any]) -> None:
    for logical_id, resource in resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), logical_id
            assert len(skip.get("comment", "")) > 20, f"{logical_id} skips {skip['id']} without a reason"


# ------------------------------------------------------------------ tables


def test_tables_have_the_design_keys(resources: dict[str, Any]) -> None:
    def keys(props: dict[str, Any]) -> list[tuple[str, str]]:
        return [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]]

    records = resources["RecordsTable"]["Properties"]
    assert keys(records) == [("pk", "HASH"), ("sk", "RANGE")]
    indexes = {i["IndexName"]: i for i in records["GlobalSecondaryIndexes"]}
    for name in ("gsi1", "gsi2"):
        assert keys(indexes[name]) == [(f"{name}pk", "HASH"), (f"{name}sk", "RANGE")]
        assert indexes[name]["Projection"] == {"ProjectionType": "ALL"}
    # Blind indexes are block items read on the base table (strongly consistent): no index for them.
    assert set(indexes) == {"gsi1", "gsi2"}
    assert records["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert records["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}

    assert keys(resources["AuditTable"]["Properties"]) == [("pk", "HASH"), ("sk", "RANGE")]
    # The audit outlives the records it describes.
    assert "TimeToLiveSpecification" not in resources["AuditTable"]["Properties"]
    idempotency = resources["IdempotencyTable"]["Properties"]
    assert keys(idempotency) == [("id", "HASH")]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert keys(resources["DirectoryTable"]["Properties"]) == [("code", "HASH")]
    assert keys(resources["KeyStoreTable"]["Properties"]) == [("pk", "HASH"), ("sk", "RANGE")]


@pytest.mark.parametrize("table", TABLES)
def test_table_is_protected(resources: dict[str, Any], table: str) -> None:
    resource = resources[table]
    props = resource["Properties"]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    sse = props["SSESpecification"]
    assert sse["SSEEnabled"] is True
    assert sse["SSEType"] == "KMS"
    assert refs(sse["KMSMasterKeyId"]) == {"TableKey"}  # customer-managed, not the AWS-owned key
    assert props["DeletionProtectionEnabled"] is True
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    assert "TableName" not in props  # CloudFormation names them; tests create them by logical id


# ------------------------------------------------------------------ IAM


def test_no_wildcard_actions_or_resources(resources: dict[str, Any]) -> None:
    for holder, statement in role_statements(resources):
        actions = as_list(statement.get("Action", []))
        assert "NotAction" not in statement, holder
        assert "NotResource" not in statement, holder
        for action in actions:
            assert action != "*", holder
            assert not action.endswith(":*"), f"{holder}: {action}"
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= STAR_RESOURCE_ALLOWED, f"{holder}: {actions} on *"


def test_each_function_has_its_own_role(resources: dict[str, Any]) -> None:
    roles = [function_role(resources, f) for f in FUNCTIONS]
    assert len(set(roles)) == len(roles)
    for role in roles:
        assert resources[role]["Type"] == "AWS::IAM::Role"
        trust = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in trust] == [{"Service": "lambda.amazonaws.com"}]
        # Only our own managed policy (tracing) may be attached: no AWS-managed broad policies.
        assert refs(resources[role]["Properties"].get("ManagedPolicyArns", [])) <= {"TracingPolicy"}


def test_audit_table_is_append_only(resources: dict[str, Any]) -> None:
    dynamodb_actions = {a for _, s in role_statements(resources) for a in as_list(s["Action"])}
    dynamodb_actions |= AUDIT_FORBIDDEN
    for holder, statement in role_statements(resources):
        if "AuditTable" in refs(statement["Resource"]):
            granted = expand(as_list(statement["Action"]), dynamodb_actions)
            forbidden = granted & AUDIT_FORBIDDEN
            assert not forbidden, f"{holder} may change the audit: {forbidden}"


def test_authorizer_touches_only_the_directory(resources: dict[str, Any]) -> None:
    role = function_role(resources, "AuthorizerFunction")
    tables = set()
    for statement in statements_of_role(resources, role):
        if any(a.startswith("dynamodb:") for a in as_list(statement["Action"])):
            tables |= refs(statement["Resource"])
            assert as_list(statement["Action"]) == ["dynamodb:GetItem"]
    assert tables == {"DirectoryTable"}


def test_index_queries_only_where_needed(resources: dict[str, Any]) -> None:
    expected = {
        "AuthorizerFunction": set(),
        "RecordsFunction": set(),
        "SearchFunction": set(),
        "TransfersFunction": {"gsi1", "gsi2"},
        "InboxFunction": {"gsi1", "gsi2"},
        "NotifierFunction": set(),
        "ClockFunction": {"gsi1", "gsi2"},
        "AuditSealerFunction": set(),
        "ImportsFunction": set(),
        "ImportWorkerFunction": set(),
    }
    for function, indexes in expected.items():
        granted = set()
        for statement in statements_of_role(resources, function_role(resources, function)):
            for resource in as_list(statement["Resource"]):
                granted |= set(re.findall(r"/index/([^/\"]+)", json.dumps(resource)))
        assert granted == indexes, function


def test_only_named_roles_use_the_data_and_blind_index_keys(resources: dict[str, Any]) -> None:
    records, search = function_role(resources, "RecordsFunction"), function_role(resources, "SearchFunction")
    clock = function_role(resources, "ClockFunction")
    worker = function_role(resources, "ImportWorkerFunction")  # registers imported rows
    assert who_may(resources, "DataKey", "kms:Decrypt") == {records, search, worker}
    # Branch keys are made only by the clock, which never sees them; nobody makes plaintext data keys.
    assert who_may(resources, "DataKey", "kms:GenerateDataKeyWithoutPlaintext") == {clock}
    assert who_may(resources, "DataKey", "kms:GenerateDataKey") == set()
    assert who_may(resources, "DataKey", "kms:Encrypt") == set()
    assert who_may(resources, "DataKey", "kms:CreateGrant") == set()
    assert who_may(resources, "BlindIndexKey", "kms:GenerateMac") == {records, search, worker}
    # ... and no identity policy opens either key to anyone else.
    for holder, statement in role_statements(resources):
        assert not refs(statement["Resource"]) & {"DataKey", "BlindIndexKey", "ConfigKey"}, holder


def test_only_function_roles_read_function_configuration(resources: dict[str, Any]) -> None:
    roles = {function_role(resources, f) for f in FUNCTIONS}
    assert who_may(resources, "ConfigKey", "kms:Decrypt") == roles


def test_key_administration_excludes_data_use(resources: dict[str, Any]) -> None:
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::KMS::Key":
            continue
        for statement in key_policy(resources, logical_id):
            assert "*" not in as_list(statement["Principal"].get("AWS", [])), logical_id
            if principals(statement) == {"root"} and "Condition" not in statement:
                assert not expand(as_list(statement["Action"]), KMS_DATA_USE), (logical_id, statement["Sid"])


def test_key_rotation(resources: dict[str, Any]) -> None:
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::KMS::Key":
            props = resource["Properties"]
            if str(props.get("KeySpec", "SYMMETRIC_DEFAULT")).startswith("HMAC"):
                assert "EnableKeyRotation" not in props  # not supported for HMAC keys
            else:
                assert props["EnableKeyRotation"] is True, logical_id
    assert resources["BlindIndexKey"]["Properties"]["KeySpec"] == "HMAC_256"
    assert resources["BlindIndexKey"]["Properties"]["KeyUsage"] == "GENERATE_VERIFY_MAC"
    for key in ("DataKey", "BlindIndexKey", "TableKey"):  # losing one loses the data
        assert resources[key]["DeletionPolicy"] == "Retain"


# ------------------------------------------------------------------ functions


def test_function_defaults(template: dict[str, Any], resources: dict[str, Any]) -> None:
    defaults = template["Globals"]["Function"]
    assert defaults["Runtime"] == "python3.12"
    assert defaults["Architectures"] == ["arm64"]
    assert defaults["Tracing"] == "Active"
    assert refs(defaults["Layers"]) == {"SignpostLayer"}
    assert refs(defaults["KmsKeyArn"]) == {"ConfigKey"}
    assert set(defaults["Environment"]["Variables"]) >= ENV_VARS
    for function, name in FUNCTIONS.items():
        props = resources[function]["Properties"]
        assert resources[function]["Type"] == "AWS::Serverless::Function"
        assert props["CodeUri"] == f"functions/{name}/"
        assert props.get("Handler", defaults.get("Handler")) == "app.lambda_handler"
        if function in STREAM_CONSUMERS:  # none, ever (test_stream_consumers_are_not_starved_...)
            assert "ReservedConcurrentExecutions" not in props, function
            continue
        # A parameter, none by default (tests/unit/test_deployable.py: fits a quota of 10).
        prefix = function.removesuffix("Function")
        assert props["ReservedConcurrentExecutions"] == {
            "Fn::If": [f"Reserves{prefix}", {"Ref": f"{prefix}ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
        }


def test_every_function_logs_to_its_own_encrypted_group(resources: dict[str, Any]) -> None:
    groups = {
        json.dumps(r["Properties"]["LogGroupName"]): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Logs::LogGroup"
    }
    for function in FUNCTIONS:
        name = resources[function]["Properties"]["FunctionName"]["Fn::Sub"]
        group = groups[json.dumps({"Fn::Sub": f"/aws/lambda/{name}"})]
        assert refs(group["KmsKeyId"]) == {"LogKey"}
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for group in groups.values():
        assert group.get("KmsKeyId")
        assert group.get("RetentionInDays")


def test_layer_requirements_match_pyproject() -> None:
    def normalise(requirement: str) -> str:
        return re.sub(r"\s+", "", requirement).lower()

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {normalise(r) for r in pyproject["project"]["dependencies"] if not r.startswith("boto3")}
    lines = (REPO_ROOT / "layers" / "signpost" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    layer = {normalise(line) for line in lines if line.strip() and not line.lstrip().startswith("#")}
    assert layer == runtime


# ------------------------------------------------------------------ API


def test_every_route_is_served_by_its_function(resources: dict[str, Any]) -> None:
    routed = {}
    for function, _name, props in api_events(resources):
        key = (props["Method"].upper(), props["Path"])
        assert key not in routed, f"{key} routed twice"
        assert refs(props["RestApiId"]) == {"SignpostApi"}
        routed[key] = function
        public = (props.get("Auth") or {}).get("Authorizer") == "NONE"
        assert public == (key in PUBLIC_ROUTES), key
    assert routed == ROUTES


def test_api_auth_and_stage(resources: dict[str, Any]) -> None:
    props = resources["SignpostApi"]["Properties"]
    auth = props["Auth"]
    assert auth["DefaultAuthorizer"] == "TokenAuthorizer"
    assert auth["AddDefaultAuthorizerToCorsPreflight"] is False
    authorizer = auth["Authorizers"]["TokenAuthorizer"]
    assert refs(authorizer["FunctionArn"]) == {"AuthorizerFunction"}
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    assert authorizer["Identity"]["Headers"] == ["Authorization"]
    assert props["TracingEnabled"] is True
    assert props["CacheClusterEnabled"] is False
    assert refs(props["AccessLogSetting"]["DestinationArn"]) == {"ApiAccessLogGroup"}
    (settings,) = props["MethodSettings"]
    assert settings["DataTraceEnabled"] is False  # would log bodies (personal data)
    assert settings["LoggingLevel"] == "ERROR"


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("UNAUTHORIZED", 401),
        ("ACCESS_DENIED", 401),
        ("MISSING_AUTHENTICATION_TOKEN", 404),
        ("RESOURCE_NOT_FOUND", 404),
        ("WAF_FILTERED", 403),
        ("THROTTLED", 429),
        ("REQUEST_TOO_LARGE", 413),
        ("UNSUPPORTED_MEDIA_TYPE", 415),
        ("DEFAULT_4XX", 400),
        ("DEFAULT_5XX", 500),
    ],
)
def test_gateway_errors_are_problem_json(resources: dict[str, Any], kind: str, status: int) -> None:
    """RFC 9457 as the handlers answer: about:blank, the status phrase as title, a detail to act on."""
    response = resources["SignpostApi"]["Properties"]["GatewayResponses"][kind]
    assert int(response["StatusCode"]) == status
    headers = response["ResponseParameters"]["Headers"]
    assert headers["Content-Type"] == "'application/problem+json'"
    body = json.loads(response["ResponseTemplates"]["application/json"])
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"] == status_phrase(status)
    assert len(body["detail"]) > 10
    assert ("WWW-Authenticate" in headers) == (status == 401)
    if status == 401:
        assert headers["WWW-Authenticate"] == "'Bearer'"
    if status == 429:
        assert int(headers["Retry-After"].strip("'")) >= 1


def test_waf_protects_the_stage(resources: dict[str, Any]) -> None:
    acl = resources["WebAcl"]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert managed >= {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    statements = [r["Statement"] for r in acl["Rules"]]
    assert any(s.get("RateBasedStatement", {}).get("AggregateKeyType") == "IP" for s in statements)
    nested = [inner for s in statements for inner in (s, *s.get("AndStatement", {}).get("Statements", []))]
    assert any(s.get("SizeConstraintStatement", {}).get("Size") == 65536 for s in nested)
    association = resources["WebAclAssociation"]["Properties"]
    assert "SignpostApi.Stage" in json.dumps(association["ResourceArn"])
    logging_config = resources["WebAclLogging"]["Properties"]
    assert refs(logging_config["LogDestinationConfigs"]) == {"WafLogGroup"}


def test_waf_logs_redact_the_path_and_query_string_with_their_ids(resources: dict[str, Any]) -> None:
    """WAF logs hold each request's URI and query: child, search and transfer ids must not be
    there (nor the token, nor a Referer that would repeat the path)."""
    redacted = resources["WebAclLogging"]["Properties"]["RedactedFields"]
    assert {"UriPath": {}} in redacted
    assert {"QueryString": {}} in redacted
    headers = {f["SingleHeader"]["Name"].lower() for f in redacted if "SingleHeader" in f}
    assert headers >= {"authorization", "referer"}
    assert all(len(field) == 1 for field in redacted), "one part of the request per entry"


# ------------------------------------------------------------------ async paths


def test_notifier_stream_is_safe_to_retry(resources: dict[str, Any]) -> None:
    (event,) = resources["NotifierFunction"]["Properties"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    props = event["Properties"]
    assert refs(props["Stream"]) == {"RecordsTable"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRetryAttempts"] == 5
    assert props["MaximumRecordAgeInSeconds"] == 3600
    assert refs(props["DestinationConfig"]["OnFailure"]["Destination"]) == {"NotifierFailureQueue"}
    (pattern,) = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["INTENT"]}}}}


def resources_parameters() -> dict[str, Any]:
    return dict(load_template(TEMPLATE_PATH).get("Parameters", {}))


def test_stream_consumers_are_not_starved_by_reserved_concurrency(resources: dict[str, Any]) -> None:
    """Lambda runs one batch per shard: a reserved concurrency under the shard count (the notifier
    had 5) leaves shards waiting until their records age into the failure queue. None, then."""
    consumers = {
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "DynamoDB" for e in resource["Properties"].get("Events", {}).values())
    }
    assert consumers == STREAM_CONSUMERS
    for function in consumers:  # not even as a parameter: a deployment could set it below the shards
        assert "ReservedConcurrentExecutions" not in resources[function]["Properties"], function
        assert f"{function.removesuffix('Function')}ReservedConcurrency" not in resources_parameters()


def test_lost_notifications_are_alarmed(resources: dict[str, Any]) -> None:
    """Records the notifier gives up on (and those about to age out) must wake someone."""
    (event,) = resources["NotifierFunction"]["Properties"]["Events"].values()
    max_age_ms = event["Properties"]["MaximumRecordAgeInSeconds"] * 1000
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    [age] = [
        a
        for a in alarms
        if a.get("MetricName") == "IteratorAge" and refs(a["Dimensions"]) == {"NotifierFunction"}
    ]
    assert age["Statistic"] == "Maximum"
    fires_after_ms = age["Threshold"] + age["Period"] * age["EvaluationPeriods"] * 1000
    assert fires_after_ms <= max_age_ms / 2, "it alarms with time left to catch up"
    [depth] = [a for a in alarms if refs(a.get("Dimensions", [])) == {"NotifierFailureQueue"}]
    assert (depth["MetricName"], depth["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 0)
    assert "redrive-notifications" in depth["AlarmDescription"]


def test_queues_and_topics_are_encrypted(resources: dict[str, Any]) -> None:
    for logical_id, resource in resources.items():
        if resource["Type"] in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
            assert refs(resource["Properties"]["KmsMasterKeyId"]) == {"PlatformKey"}, logical_id


def test_clock_has_a_dead_letter_queue(resources: dict[str, Any]) -> None:
    props = resources["ClockFunction"]["Properties"]
    assert refs(props["DeadLetterQueue"]["TargetArn"]) == {"ClockDeadLetterQueue"}
    (event,) = props["Events"].values()
    assert event["Properties"]["Schedule"] == "rate(15 minutes)"
    assert refs(event["Properties"]["DeadLetterConfig"]["Arn"]) == {"ClockDeadLetterQueue"}


# ------------------------------------------------------------------ the SAM transform


def test_sam_transform_succeeds_offline() -> None:
    transformed = translate_template(TEMPLATE_PATH)["Resources"]
    kinds = [r["Type"] for r in transformed.values()]
    assert not [k for k in kinds if k.startswith("AWS::Serverless::")]
    assert kinds.count("AWS::Lambda::Function") == len(FUNCTIONS)
    assert transformed["SignpostApiapiStage"]["Properties"]["StageName"] == "api"
    mappings = [r for r in transformed.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    streams = [m for m in mappings if "DestinationConfig" in m["Properties"]]
    assert sorted(
        json.dumps(m["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]) for m in streams
    ) == [
        json.dumps({"Fn::GetAtt": ["AuditSealerFailureQueue", "Arn"]}),
        json.dumps({"Fn::GetAtt": ["NotifierFailureQueue", "Arn"]}),
    ]
    (queue,) = [m["Properties"] for m in mappings if m not in streams]  # failures go to its redrive DLQ
    assert queue["EventSourceArn"] == {"Fn::GetAtt": ["ImportQueue", "Arn"]}
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # checkov reads skips from Metadata: the translator must carry them to what it generates.
    assert transformed["RecordsFunction"]["Metadata"]["checkov"]["skip"]


# ------------------------------------------------------------------ bulk import


def test_import_uploads_are_encrypted_private_tls_only_and_expire(resources: dict[str, Any]) -> None:
    bucket = resources["ImportsBucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert refs(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == {"PlatformKey"}
    assert rule["BucketKeyEnabled"] is True
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    expiry = [
        r
        for r in bucket["LifecycleConfiguration"]["Rules"]
        if r["Status"] == "Enabled" and "ExpirationInDays" in r
    ]
    assert [r["ExpirationInDays"] for r in expiry] == [UPLOAD_KEPT.days]
    # a batch message lives exactly as long as the file it points into: never dropped before
    # its file, and an import not complete when both are gone reports failed (UPLOAD_KEPT)
    assert resources["ImportQueue"]["Properties"]["MessageRetentionPeriod"] == UPLOAD_KEPT.days * 86400
    # not versioned: a deleted upload leaves no non-current version behind
    assert bucket.get("VersioningConfiguration", {}).get("Status") != "Enabled"
    policy = resources["ImportsBucketPolicy"]["Properties"]
    assert refs(policy["Bucket"]) == {"ImportsBucket"}
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    tls = statements["DenyWithoutTls"]
    assert (tls["Effect"], tls["Action"], tls["Condition"]) == (
        "Deny",
        "s3:*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert statements["DenyUnencryptedUploads"]["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}
    }


def test_import_queue_retries_then_dead_letters_and_is_alarmed(resources: dict[str, Any]) -> None:
    queue = resources["ImportQueue"]["Properties"]
    worker = resources["ImportWorkerFunction"]["Properties"]
    assert refs(queue["RedrivePolicy"]["deadLetterTargetArn"]) == {"ImportDeadLetterQueue"}
    # the worker marks a batch failed on its last delivery: it must know the queue's count
    assert (
        int(worker["Environment"]["Variables"]["IMPORT_MAX_RECEIVES"])
        == queue["RedrivePolicy"]["maxReceiveCount"]
    )
    # Lambda's advice for SQS event sources: visibility at least 6x the function's timeout
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert worker["Timeout"] <= 900
    (event,) = worker["Events"].values()
    assert event["Type"] == "SQS"
    assert refs(event["Properties"]["Queue"]) == {"ImportQueue"}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarm = resources["ImportFailuresAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert refs(alarm["Dimensions"]) == {"ImportDeadLetterQueue"}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    policy = resources["ImportQueuePolicy"]["Properties"]
    assert refs(policy["Queues"]) == {"ImportQueue", "ImportDeadLetterQueue"}
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def _granted(resources: dict[str, Any], function: str) -> dict[str, set[str]]:
    """Actions by the resource (logical id) they are granted on, for a function's role."""
    granted: dict[str, set[str]] = {}
    for statement in statements_of_role(resources, function_role(resources, function)):
        for target in refs(statement["Resource"]) or {"*"}:
            granted.setdefault(target, set()).update(as_list(statement["Action"]))
    return granted


def test_import_roles_hold_only_what_each_side_does(resources: dict[str, Any]) -> None:
    api, worker = _granted(resources, "ImportsFunction"), _granted(resources, "ImportWorkerFunction")
    assert api["ImportsBucket"] == {"s3:PutObject"}
    assert api["ImportQueue"] == {"sqs:SendMessage"}
    assert not {"DirectoryTable", "DataKey", "BlindIndexKey"} & set(api)
    assert worker["ImportsBucket"] == {"s3:GetObject", "s3:DeleteObject"}
    assert worker["ImportQueue"] == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"
    }  # fmt: skip
    assert "sqs:SendMessage" not in worker.get("ImportQueue", set())
    assert worker["PlatformKey"] == {"kms:Decrypt"}
    assert api["PlatformKey"] == {"kms:GenerateDataKey", "kms:Decrypt"}


def test_import_functions_are_told_where_the_bucket_key_and_queue_are(resources: dict[str, Any]) -> None:
    api = resources["ImportsFunction"]["Properties"]["Environment"]["Variables"]
    worker = resources["ImportWorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert refs(api["IMPORTS_BUCKET"]) == refs(worker["IMPORTS_BUCKET"]) == {"ImportsBucket"}
    assert refs(api["IMPORTS_KEY_ID"]) == refs(worker["IMPORTS_KEY_ID"]) == {"PlatformKey"}
    assert refs(api["IMPORTS_QUEUE_URL"]) == {"ImportQueue"}


def test_the_api_passes_csv_through_and_waf_lets_only_imports_exceed_64_kb(resources: dict[str, Any]) -> None:
    assert resources["SignpostApi"]["Properties"]["BinaryMediaTypes"] == ["text~1csv"]
    rules = {r["Name"]: r for r in resources["WebAcl"]["Properties"]["Rules"]}
    general = rules["BodyOver64KB"]["Statement"]["AndStatement"]["Statements"]
    assert general[0]["SizeConstraintStatement"]["Size"] == 65536
    exempt = general[1]["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert (exempt["PositionalConstraint"], exempt["SearchString"]) == ("ENDS_WITH", "/v1/imports")
    imports = rules["ImportOver4MB"]
    assert imports["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 413
    body_key = imports["Action"]["Block"]["CustomResponse"]["CustomResponseBodyKey"]
    assert (
        json.loads(resources["WebAcl"]["Properties"]["CustomResponseBodies"][body_key]["Content"])["status"]
        == 413
    )


@pytest.mark.parametrize(
    ("length", "blocked"),
    [(0, False), (65537, False), (4_194_304, False), (4_194_305, True), (4_194_310, True), (4_195_000, True),
     (4_200_000, True), (4_999_999, True), (5_000_000, True), (9_999_999, True), (10_485_760, True),
     (999_999, False), (4_194_299, False), (4_100_000, False), (1_000_000, False)],
)  # fmt: skip
def test_waf_size_rule_blocks_exactly_the_uploads_over_4_mib(
    resources: dict[str, Any], length: int, blocked: bool
) -> None:
    rules = {r["Name"]: r for r in resources["WebAcl"]["Properties"]["Rules"]}
    (_, regex) = rules["ImportOver4MB"]["Statement"]["AndStatement"]["Statements"]
    pattern = re.compile(regex["RegexMatchStatement"]["RegexString"])
    assert bool(pattern.fullmatch(str(length))) is blocked


def test_authorizer_cache_ttl_is_at_most_a_minute_and_the_authorizer_knows_it(
    resources: dict[str, Any],
) -> None:
    """A cached Allow outlives a deactivation or a token by at most the TTL: the authorizer is
    told the TTL (AUTHORIZER_CACHE_SECONDS) so that it refuses tokens with less life left."""
    identity = resources["SignpostApi"]["Properties"]["Auth"]["Authorizers"]["TokenAuthorizer"]["Identity"]
    ttl = identity["ReauthorizeEvery"]
    assert 0 < ttl <= 60
    env = resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["AUTHORIZER_CACHE_SECONDS"] == str(ttl)
