"""The operator's console in template.yaml: alarms to the ops topic, the dashboard's widgets,
saved Logs Insights queries that can never return an identity field, and every custom metric
the console reads is one the code (or a metric filter) really emits."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from signpost.commands import verify_audit

from infrastructure.cfn_yaml import load_template
from tests.unit.test_template import TEMPLATE_PATH, refs

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE = [*REPO_ROOT.glob("functions/*/app.py"), *REPO_ROOT.glob("layers/signpost/signpost/**/*.py")]

ALARMS = {
    "Api5xxAlarm": "5xx rate",
    "ApiLatencyP99Alarm": "p99 latency",
    "LambdaThrottlesAlarm": "throttles",
    "NotifierIteratorAgeAlarm": "iterator age",
    "NotifierFailuresAlarm": "failure-queue depth",
    "ClockFailuresAlarm": "clock dead letters",
    "AuthorizerDenialsAlarm": "authorizer denials spike",
    "BreakGlassUsedAlarm": "every break-glass use",
    "AuditVerificationFailedAlarm": "failed audit verification",
    "AuditVerificationMissingAlarm": "audit not verified",
}
# What the dashboard must show (issue: the admin's console), by widget title.
WIDGETS = {
    "Requests per endpoint": ("AWS/ApiGateway", "Count"),
    "4xx per endpoint": ("AWS/ApiGateway", "4XXError"),
    "5xx per endpoint": ("AWS/ApiGateway", "5XXError"),
    "Latency p50 per endpoint (ms)": ("AWS/ApiGateway", "Latency"),
    "Latency p99 per endpoint (ms)": ("AWS/ApiGateway", "Latency"),
    "Searches by outcome": ("Signpost", "Searches"),
    "Searches by organisation type": ("Signpost", "Searches"),
    "Police searches and 429s (hourly limit reached)": ("Signpost", "PoliceSearchLimited"),
    "Break-glass uses": ("Signpost", "BreakGlassUsed"),
    "Open and overdue transfers": ("Signpost", "OverdueTransfers"),
    "Notifier iterator age (ms)": ("AWS/Lambda", "IteratorAge"),
    "Notifier failures": ("Signpost", "NotificationRecordsFailed"),
    "Failure and dead-letter queue depth": ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    "Imports running (started, batches done and failed)": ("Signpost", "ImportBatchesDone"),
    "Lambda throttles per function": ("AWS/Lambda", "Throttles"),
    "Authorizer denials by reason": ("Signpost", "AuthorizerDeniedByReason"),
}
# Fields a saved query may return: request metadata only. Anything else (a name, a date of
# birth, an NHS number, a postcode, a token, a request body, @message) is refused.
QUERY_FIELDS = {
    "@timestamp", "@log", "request_id", "correlation_id", "requestId", "level", "message", "function_name",
    "httpMethod", "resourcePath", "status", "latency", "org", "role", "error", "error_type", "decision",
    "reason", "requests",
}  # fmt: skip
IDENTITY_FIELDS = {"given_names", "family_name", "date_of_birth", "nhs_number", "postcode", "other_names"}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    found: dict[str, Any] = load_template(TEMPLATE_PATH)["Resources"]
    return found


def _sub_text(value: Any) -> str:
    text = value["Fn::Sub"]
    return text if isinstance(text, str) else text[0]


def dashboard(resources: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body as CloudFormation would render it (substitutions filled with samples)."""
    body = _sub_text(resources["OperationsDashboard"]["Properties"]["DashboardBody"])
    rendered = re.sub(r"\$\{[^}]+\}", "x", body)
    parsed: dict[str, Any] = json.loads(rendered)
    return parsed


def _emitted_in_code(name: str) -> bool:
    return any(re.search(rf'name="{re.escape(name)}"', p.read_text(encoding="utf-8")) for p in CODE)


def _filter_metrics(resources: dict[str, Any]) -> set[str]:
    return {
        t["MetricName"]
        for r in resources.values()
        if r["Type"] == "AWS::Logs::MetricFilter"
        for t in r["Properties"]["MetricTransformations"]
    }


def _custom_metrics(value: Any) -> set[str]:
    """Signpost-namespace metric names a dashboard widget or alarm reads."""
    text = json.dumps(value)
    names = set(re.findall(r'\["Signpost", "(\w+)"', text))
    names |= set(re.findall(r"\{Signpost,[\w,]+\} MetricName=\\+\"(\w+)", text))
    return names


# ---------------------------------------------------------------------- alarms


def test_every_alarm_goes_to_the_ops_topic(resources: dict[str, Any]) -> None:
    alarms = {k: r for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(ALARMS) <= set(alarms)
    for name, alarm in alarms.items():
        actions = alarm["Properties"]["AlarmActions"]
        assert actions == [{"Ref": "AlarmTopic"}], name  # never conditional: alarms exist without e-mail
        assert alarm["Properties"]["AlarmDescription"], name


def test_the_ops_topic_always_exists_and_email_is_optional(resources: dict[str, Any]) -> None:
    topic = resources["AlarmTopic"]
    assert "Condition" not in topic
    assert refs(topic["Properties"]["KmsMasterKeyId"]) == {"PlatformKey"}
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert refs(subscription["Properties"]["TopicArn"]) == {"AlarmTopic"}


def test_alarm_thresholds_say_what_they_watch(resources: dict[str, Any]) -> None:
    props = {k: resources[k]["Properties"] for k in ALARMS}
    assert props["Api5xxAlarm"]["MetricName"] == "5XXError"
    assert props["Api5xxAlarm"]["Statistic"] == "Average"
    assert props["ApiLatencyP99Alarm"]["ExtendedStatistic"] == "p99"
    throttled = {
        refs(m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]).pop()
        for m in props["LambdaThrottlesAlarm"]["Metrics"]
        if "MetricStat" in m
    }
    functions = {k for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert throttled == functions  # every function's throttles count
    assert props["NotifierIteratorAgeAlarm"]["MetricName"] == "IteratorAge"
    assert refs(props["NotifierIteratorAgeAlarm"]["Dimensions"]) == {"NotifierFunction"}
    assert refs(props["NotifierFailuresAlarm"]["Dimensions"]) == {"NotifierFailureQueue"}
    assert props["AuthorizerDenialsAlarm"]["Threshold"] == {"Ref": "AuthorizerDenialsAlarmThreshold"}
    # one use is enough
    assert (props["BreakGlassUsedAlarm"]["Threshold"], props["BreakGlassUsedAlarm"]["Period"]) == (1, 60)
    assert props["AuditVerificationFailedAlarm"]["Threshold"] == 0
    assert props["AuditVerificationMissingAlarm"]["TreatMissingData"] == "breaching"


def test_every_custom_metric_the_console_reads_is_emitted(resources: dict[str, Any]) -> None:
    read: set[str] = set()
    for name in ALARMS:
        props = resources[name]["Properties"]
        if props.get("Namespace") == "Signpost":
            read.add(props["MetricName"])
    read |= _custom_metrics(dashboard(resources))
    assert {
        "Searches",
        "BreakGlassUsed",
        "OpenTransfers",
        "AuthorizerDenied",
        "AuditVerificationProblems",
    } <= read
    from_filters = _filter_metrics(resources)
    from_admin = {verify_audit.METRIC_PROBLEMS}  # put by `signpost-admin verify-audit --publish-metric`
    assert {"ImportStarted", "ImportBatchesDone", "ImportBatchesFailed"} <= read  # imports running
    missing = {m for m in read - from_filters - from_admin if not _emitted_in_code(m)}
    assert not missing, f"the console reads metrics nothing emits: {missing}"


def test_authorizer_denials_come_from_its_decision_log(resources: dict[str, Any]) -> None:
    filters = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::MetricFilter"]
    assert {refs(f["LogGroupName"]).pop() for f in filters} == {"AuthorizerLogGroup"}
    assert {f["FilterPattern"] for f in filters} == {'{ $.decision = "deny" }'}
    authorizer = (REPO_ROOT / "functions" / "authorizer" / "app.py").read_text(encoding="utf-8")
    assert '"decision": "deny"' in authorizer
    assert '"reason": exc.reason' in authorizer


# ---------------------------------------------------------------------- dashboard


def test_dashboard_has_every_widget_the_admin_needs(resources: dict[str, Any]) -> None:
    widgets = {
        w["properties"].get("title"): w for w in dashboard(resources)["widgets"] if w["type"] != "text"
    }
    for title, (namespace, metric) in WIDGETS.items():
        assert title in widgets, title
        text = json.dumps(widgets[title]["properties"]["metrics"])
        assert namespace in text, title
        assert metric in text, title
    p99 = json.dumps(widgets["Latency p99 per endpoint (ms)"]["properties"]["metrics"])
    assert "'p99'" in p99
    assert "Method,Resource" in p99
    expressions = [m[0]["expression"] for m in widgets["Searches by outcome"]["properties"]["metrics"]]
    for outcome in ("match", "possible_match", "no_match"):
        assert any(f'outcome="{outcome}"' in e for e in expressions), outcome
    expressions = [
        m[0]["expression"] for m in widgets["Searches by organisation type"]["properties"]["metrics"]
    ]
    for org_type in ("local_authority", "health", "education", "police"):
        assert any(f'org_type="{org_type}"' in e for e in expressions), org_type
    alarm_widget = widgets["Alarms"]["properties"]["alarms"]
    body = _sub_text(resources["OperationsDashboard"]["Properties"]["DashboardBody"])
    shown = set(re.findall(r'"\$\{(\w+)\.Arn\}"', body))
    every_alarm = {k for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert shown == every_alarm  # an alarm the console does not show is an alarm nobody sees
    assert len(alarm_widget) == len(every_alarm)


def test_dashboard_widgets_fit_the_grid(resources: dict[str, Any]) -> None:
    cells: set[tuple[int, int]] = set()
    for widget in dashboard(resources)["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                assert (x, y) not in cells, f"widgets overlap at {x},{y}"
                cells.add((x, y))


def test_dashboard_substitutions_name_only_template_resources(resources: dict[str, Any]) -> None:
    body = _sub_text(resources["OperationsDashboard"]["Properties"]["DashboardBody"])
    for name in re.findall(r"\$\{([^}]+)\}", body):
        logical = name.split(".")[0]
        assert logical in ("Environment", "AWS::Region") or logical in resources, name


# ---------------------------------------------------------------------- saved queries


def _queries(resources: dict[str, Any]) -> dict[str, str]:
    return {
        k: r["Properties"]["QueryString"]
        for k, r in resources.items()
        if r["Type"] == "AWS::Logs::QueryDefinition"
    }


def returned_fields(query: str) -> set[str]:
    """The fields a Logs Insights query returns: its last `display`, else `stats` outputs, else `fields`."""
    commands = [c.strip() for c in query.split("|")]
    names = {c.split(None, 1)[0] for c in commands}
    assert not names & {"parse", "unmask", "unnest"}, "a query must not extract or unmask raw content"
    last = next((c for c in reversed(commands) if c.split(None, 1)[0] in ("display", "stats")), None)
    if last is None:
        last = next(c for c in commands if c.startswith("fields"))
    verb, _, rest = last.partition(" ")
    if verb == "stats":
        outputs, _, by = rest.partition(" by ")
        fields = [o.split(" as ")[-1] for o in outputs.split(",")] + by.split(",")
    else:
        fields = rest.split(",")
    return {f.strip() for f in fields if f.strip()}


def test_saved_queries_exist(resources: dict[str, Any]) -> None:
    names = {
        json.dumps(r["Properties"]["Name"])
        for r in resources.values()
        if r["Type"] == "AWS::Logs::QueryDefinition"
    }
    for query in ("by-correlation-id", "by-organisation", "denied-requests"):
        assert any(query in n for n in names), query


def test_saved_queries_return_only_allow_listed_fields(resources: dict[str, Any]) -> None:
    for name, query in _queries(resources).items():
        fields = returned_fields(query)
        assert fields, name
        assert fields <= QUERY_FIELDS, f"{name} returns {fields - QUERY_FIELDS}"
        assert "@message" not in query, name  # never a whole log line
        assert not IDENTITY_FIELDS & set(re.findall(r"[\w@]+", query)), name


def test_the_allow_list_check_refuses_an_identity_field() -> None:
    bad = "fields @timestamp, family_name | filter org = 'x' | display @timestamp, family_name"
    assert "family_name" in returned_fields(bad) - QUERY_FIELDS
    whole_line = "fields @timestamp, @message | sort @timestamp desc"
    assert "@message" in returned_fields(whole_line) - QUERY_FIELDS
    with pytest.raises(AssertionError):
        returned_fields("fields @timestamp | parse @message '*' as anything | display anything")
