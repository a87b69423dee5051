"""Every `signpost-admin` command on moto (tables from template.yaml), as an operator runs it:
help everywhere, exit codes, progress on stderr, audited changes, and no identity printed."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from signpost import admin
from signpost.commands import target
from signpost.dal import stack
from signpost.logic.services import LONDON
from signpost.settings import get_settings

from infrastructure.local.admin_endpoint import serve_aws
from infrastructure.local.aws import LocalAws
from infrastructure.local.ttl import expire
from tests.support.callers import CAMDEN, CAMDEN_MANAGER, HACKNEY, HACKNEY_MANAGER, POLICE
from tests.support.lambda_events import invoke, make_event

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "infrastructure" / "seed" / "organisations.json"
SMOKE = REPO / "infrastructure" / "directory" / "smoke.json"
CHILD = {
    "given_names": "Zofia",
    "family_name": "Okonkwo-Lind",
    "date_of_birth": "2012-08-19",
    "nhs_number": "9434765919",
}
IDENTITY_VALUES = ("Zofia", "Okonkwo", "2012-08-19", "9434765919")
JUSTIFICATION = "Child brought in by ambulance out of hours; need the allocated social worker now."


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = admin.main(list(argv), out=out)
    return code, out.getvalue()


def _register(who=CAMDEN, **extra: Any) -> str:
    review_by = (dt.date.today() + dt.timedelta(days=120)).isoformat()
    body = {**CHILD, "categories": ["child_in_need"], "review_by": review_by, **extra}
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=who))
    assert resp.status == 201, resp.json()
    return str(resp.json()["child_id"])


def _search(who=HACKNEY) -> dict[str, Any]:
    reason = (
        {"reason": "police_enquiry", "case_reference": "CAD-1/26"}
        if who.is_police
        else {"reason": "referral"}
    )
    identity = {k: v for k, v in CHILD.items() if k != "nhs_number"}
    resp = invoke("search", make_event("POST", "/v1/searches", {**identity, **reason}, caller=who))
    assert resp.status == 200, resp.json()
    return dict(resp.json())


def _directory_item(aws: LocalAws, code: str) -> dict[str, Any] | None:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    return client.get_item(TableName=aws.tables["DirectoryTable"], Key={"code": {"S": code}}).get("Item")


def _audit_chain(aws: LocalAws, chain: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    return client.query(
        TableName=aws.tables["AuditTable"],
        KeyConditionExpression="pk = :c",
        ExpressionAttributeValues={":c": {"S": chain}},
    )["Items"]


# ---------------------------------------------------------------------- help and exit codes


def _subcommands(parser: Any) -> Iterator[list[str]]:
    for action in parser._actions:  # argparse keeps its subparsers here
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield [name]
                for deeper in _subcommands(sub):
                    yield [name, *deeper]


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    paths = list(_subcommands(admin.parser()))
    assert {p[0] for p in paths} >= {
        "verify-audit", "directory", "seed-directory", "transfers", "stats", "subject-access", "break-glass",
    }  # fmt: skip
    assert ["directory", "apply"] in paths
    assert ["transfers", "overdue"] in paths
    for path in [[], *paths]:
        with pytest.raises(SystemExit) as done:
            admin.main([*path, "--help"])
        assert done.value.code == 0, path
        assert "usage: signpost-admin" in capsys.readouterr().out


def test_a_bad_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        admin.main(["stats"])  # --month is required
    assert done.value.code == 2
    assert "--month" in capsys.readouterr().err


def test_an_aws_failure_exits_3_naming_only_the_error_code(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIRECTORY_TABLE", "no-such-table")
    get_settings.cache_clear()
    assert run("directory", "diff", str(DEMO))[0] == 3
    assert "AWS call failed (ResourceNotFoundException)" in capsys.readouterr().err


# ---------------------------------------------------------------------- directory


def test_directory_diff_shows_what_would_change_and_changes_nothing(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run("directory", "diff", str(DEMO), str(SMOKE))
    assert code == 0
    assert "+ SIGNPOST-SMOKE create" in out
    assert "= E09000007 unchanged" in out
    assert "1 to create, 0 to update, 8 unchanged" in out
    assert _directory_item(aws, "SIGNPOST-SMOKE") is None
    assert run("directory", "diff", "--exit-code", str(DEMO), str(SMOKE))[0] == 1
    assert "directory entries read" in capsys.readouterr().err  # progress on stderr, not in the output


def test_directory_apply_is_audited_and_idempotent(aws: LocalAws) -> None:
    code, out = run("directory", "apply", str(DEMO), str(SMOKE))
    assert (code, "applied 1 change(s)" in out) == (0, True)
    assert _directory_item(aws, "SIGNPOST-SMOKE")["type"]["S"] == "local_authority"  # type: ignore[index]
    (entry,) = _audit_chain(aws, "DIRECTORY#SIGNPOST-SMOKE")
    assert entry["action"]["S"] == "directory_create"
    assert entry["org"]["S"] == "NATIONAL"
    assert entry["role"]["S"] == "admin"
    assert entry["sub"]["S"].startswith("arn:aws:")  # the operator's own AWS identity
    assert len(entry["details"]["M"]["source_sha256"]["S"]) == 64
    # the second run finds nothing to do, and writes nothing
    code, out = run("directory", "apply", str(DEMO), str(SMOKE))
    assert (code, "applied 0 change(s)" in out) == (0, True)
    assert len(_audit_chain(aws, "DIRECTORY#SIGNPOST-SMOKE")) == 1
    assert run("directory", "diff", "--exit-code", str(DEMO), str(SMOKE))[0] == 0
    assert run("verify-audit", "--chain", "DIRECTORY#SIGNPOST-SMOKE")[0] == 0


def test_directory_apply_shows_each_changed_field(aws: LocalAws, tmp_path: Path) -> None:
    orgs = json.loads(DEMO.read_text())
    camden = next(o for o in orgs if o["code"] == "E09000007")
    camden["contact"]["phone"] = "020 7974 9999"
    camden["active"] = False  # deactivating is a change in the file, never an omission
    path = tmp_path / "directory.json"
    path.write_text(json.dumps([camden]))
    code, out = run("directory", "apply", str(path))
    assert code == 0
    assert "~ E09000007 update" in out
    assert 'contact.phone: "020 7974 3317" -> "020 7974 9999"' in out
    assert "active: true -> false" in out
    assert "? E09000012 is in the table but not in the file (left as it is)" in out
    assert _directory_item(aws, "E09000012") is not None
    (entry,) = _audit_chain(aws, "DIRECTORY#E09000007")
    fields = [f["S"] for f in entry["details"]["M"]["fields"]["L"]]
    assert (entry["action"]["S"], fields) == ("directory_update", ["active", "contact.phone"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "celebrity_register"}, "invalid organisation at 0.type"),
        ({"area": "E09000012"}, "a local authority's area is its own code"),
        ({"code": "RAL", "type": "health", "area": "NOWHERE"}, "area must be the code of a local authority"),
        ({"sensitive_service": True}, "only a health organisation can be a sensitive service"),
    ],
)
def test_an_invalid_directory_file_changes_nothing(
    aws: LocalAws, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    smoke = json.loads(SMOKE.read_text())[0]
    path = tmp_path / "directory.json"
    path.write_text(json.dumps([{**smoke, "code": "E06000001", "area": "E06000001", **change}, smoke]))
    code, out = run("directory", "apply", str(path))
    assert code == 2
    assert message in out
    assert _directory_item(aws, "SIGNPOST-SMOKE") is None  # nothing written, not even the valid entry


def test_a_directory_file_listing_an_organisation_twice_is_refused(aws: LocalAws, tmp_path: Path) -> None:
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(json.loads(SMOKE.read_text()) * 2))
    code, out = run("directory", "apply", str(path))
    assert (code, "SIGNPOST-SMOKE: listed twice" in out) == (2, True)
    assert run("directory", "diff", str(tmp_path / "missing.json"))[0] == 2


def test_seed_directory_applies_the_shipped_files(aws: LocalAws) -> None:
    code, out = run("seed-directory", str(DEMO), str(SMOKE))
    assert code == 0
    assert "seeded 9 organisations (1 changed)" in out


# ---------------------------------------------------------------------- verify-audit


def test_verify_audit_publishes_its_problem_count(aws: LocalAws) -> None:
    _register()
    assert run("verify-audit", "--publish-metric")[0] == 0
    metrics = boto3.client("cloudwatch", region_name="eu-west-2").list_metrics(Namespace="Signpost")[
        "Metrics"
    ]
    assert {
        "MetricName": "AuditVerificationProblems",
        "Dimensions": [{"Name": "environment", "Value": "local"}],
    } in [{k: m[k] for k in ("MetricName", "Dimensions")} for m in metrics]


# ---------------------------------------------------------------------- transfers overdue


def test_transfers_overdue_lists_transfers_past_a_clock(aws: LocalAws) -> None:
    child_id = _register()
    body = {"to_org": "E09000012", "reason": "family_moved", "move_date": dt.date.today().isoformat()}
    transfer = invoke(
        "transfers", make_event("POST", f"/v1/children/{child_id}/transfers", body, caller=CAMDEN)
    )
    assert transfer.status == 201
    acknowledge_by = dt.date.fromisoformat(transfer.json()["acknowledge_by"])
    code, out = run("transfers", "overdue", "--as-of", acknowledge_by.isoformat(), "--exit-code")
    assert (code, "0 overdue transfer(s)" in out) == (0, True)
    later = acknowledge_by + dt.timedelta(days=7)
    code, out = run("transfers", "overdue", "--as-of", later.isoformat(), "--json", "--exit-code")
    assert code == 1
    (row,) = json.loads(out)["overdue"]
    assert row["transfer_id"] == transfer.json()["transfer_id"]
    assert (row["clock"], row["from_org"], row["to_org"], row["status"]) == (
        "acknowledge", "E09000007", "E09000012", "requested",
    )  # fmt: skip
    assert row["working_days_late"] >= 4
    assert child_id not in out  # transfers are listed by their own id
    invoke("transfers", make_event("POST", f"/v1/transfers/{row['transfer_id']}/acknowledge", caller=HACKNEY))
    code, out = run("transfers", "overdue", "--as-of", later.isoformat(), "--json")
    assert json.loads(out)["overdue"] == []  # acknowledged; the decision is not due yet


# ---------------------------------------------------------------------- stats


def test_stats_writes_suppressed_tables_without_identity(aws: LocalAws, tmp_path: Path) -> None:
    child_id = _register()
    for _ in range(6):
        _search(HACKNEY)
    _search(POLICE)
    invoke(
        "records",
        make_event("POST", f"/v1/children/{child_id}/close", {"reason": "plan_ended"}, caller=CAMDEN),
    )
    month = dt.datetime.now(tz=LONDON).strftime("%Y-%m")
    code, out = run("stats", "--month", month, "--out", str(tmp_path))
    assert code == 0
    assert "Searches" in out
    assert "wrote 11 tables" in out
    document = json.loads((tmp_path / "stats.json").read_text())
    by_type = next(t for t in document["tables"] if t["name"] == "searches_by_organisation_type")
    rows = {r["label"]: r["values"] for r in by_type["rows"]}
    assert rows["police"] == ["<5", 0, 0, "<5"]  # one police search
    # Hackney's six would give the police count away from the totals: hidden too (secondary)
    assert rows["local authority"] == ["c", 0, 0, "c"]
    assert rows["Total"] == [7, 0, 0, 7]
    files = list(tmp_path.iterdir())
    assert (
        len([f for f in files if f.suffix == ".csv"]) == len([f for f in files if f.suffix == ".svg"]) == 11
    )
    everything = out + "".join(f.read_text() for f in files)
    for value in (*IDENTITY_VALUES, child_id, "camden-sw-1", "CAD-1/26"):
        assert value not in everything
    assert run("stats", "--month", "2026-13")[0] == 2
    assert run("stats", "--month", "2999-01")[0] == 2


# ---------------------------------------------------------------------- subject access and break-glass


def test_subject_access_for_an_auditor_outlives_the_record(aws: LocalAws) -> None:
    child_id = _register()
    _search(HACKNEY)
    code, out = run("subject-access", child_id)
    assert code == 0
    assert "record: active, E09000007, categories child_in_need" in out
    assert "register" in out
    assert "search" in out
    invoke(
        "records",
        make_event("POST", f"/v1/children/{child_id}/close", {"reason": "plan_ended"}, caller=CAMDEN),
    )
    retention = dt.timedelta(days=get_settings().retention_days + 1)
    expire(aws.tables, dt.datetime.now(tz=dt.UTC) + retention)
    code, out = run("subject-access", child_id, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["record_held"] is False
    actions = [e["action"] for e in report["access_log"]]  # newest first
    assert actions == ["subject_access_report", "close", "subject_access_report", "search", "register"]
    for value in IDENTITY_VALUES:
        assert value not in out
    assert run("subject-access", "no-such-child")[0] == 1


def test_break_glass_uses_await_review_until_an_auditor_records_one(aws: LocalAws) -> None:
    _register(CAMDEN_MANAGER, shielding={"reason": "witness_protection"})
    search_id = _search(HACKNEY)["search_id"]
    glass = invoke(
        "search",
        make_event(
            "POST",
            f"/v1/searches/{search_id}/break-glass",
            {"justification": JUSTIFICATION},
            caller=HACKNEY_MANAGER,
        ),
    )
    assert glass.status == 200
    code, out = run("break-glass", "pending", "--json")
    assert code == 0
    (pending,) = json.loads(out)
    assert (pending["search_id"], pending["org"], pending["role"]) == (search_id, "E09000012", "la_manager")
    assert JUSTIFICATION not in out  # free text stays in the audit
    assert run("break-glass", "review", search_id, "--finding", "justified") == (
        0,
        "review recorded: justified\n",
    )
    assert json.loads(run("break-glass", "pending", "--json")[1]) == []
    other = _search(HACKNEY)["search_id"]
    assert run("break-glass", "review", other, "--finding", "justified")[0] == 1  # no break-glass there
    assert run("verify-audit", "--chain", f"SEARCH#{search_id}")[0] == 0


# ---------------------------------------------------------------------- where the commands act


def test_local_target_names_the_local_stack_tables(aws: LocalAws) -> None:
    env = aws.environment()
    for name, value in target.LOCAL_ENVIRONMENT.items():
        assert env[name] == value, name


def test_stack_target_reads_tables_from_the_stack_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("cloudformation", region_name="eu-west-2")
    stubber = Stubber(client)
    outputs = {
        "RecordsTableName": "signpost-staging-RecordsTable-1",
        "AuditTableName": "signpost-staging-AuditTable-2",
        "IdempotencyTableName": "signpost-staging-IdempotencyTable-3",
        "DirectoryTableName": "signpost-staging-DirectoryTable-4",
        "DataKeyId": "key-1",
        "BlindIndexKeyId": "key-2",
    }
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "signpost-staging",
                    "CreationTime": now,
                    "StackStatus": "UPDATE_COMPLETE",
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                    "Parameters": [
                        {"ParameterKey": "Environment", "ParameterValue": "staging"},
                        {"ParameterKey": "RetentionDays", "ParameterValue": "2555"},
                    ],
                }
            ]
        },
        {"StackName": "signpost-staging"},
    )
    stubber.activate()
    monkeypatch.setattr(stack, "_client", lambda service: client)
    for name in ("RECORDS_TABLE", "AUDIT_TABLE", "IDEMPOTENCY_TABLE", "DIRECTORY_TABLE", "DATA_KEY_ID",
                 "HMAC_KEY_ID", "SIGNPOST_ENV", "RETENTION_DAYS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    target.apply_target(admin.parser().parse_args(["--stack", "signpost-staging", "verify-audit"]))
    settings = get_settings()
    assert settings.records_table == "signpost-staging-RecordsTable-1"
    assert settings.audit_table == "signpost-staging-AuditTable-2"
    assert settings.directory_table == "signpost-staging-DirectoryTable-4"
    assert (settings.environment, settings.retention_days, settings.data_key_id) == ("staging", 2555, "key-1")
    stubber.assert_no_pending_responses()
    get_settings.cache_clear()


def test_a_stack_without_the_outputs_is_refused() -> None:
    with pytest.raises(target.TargetError, match="is it a Signpost stack"):
        target.environment_from_stack({"ApiUrl": "https://x"}, {})


def test_profile_and_region_set_up_the_operator_session(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(boto3, "setup_default_session", lambda **kw: seen.update(kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))
    target.apply_target(
        admin.parser().parse_args(["--profile", "ops", "--region", "eu-west-1", "verify-audit"])
    )
    assert seen == {"profile_name": "ops", "region_name": "eu-west-1"}


def test_local_target_reaches_the_local_stacks_aws_from_another_process(aws: LocalAws) -> None:
    """`signpost-admin --local` in another terminal acts on what `make local` holds."""
    server = serve_aws(0)
    try:
        _, port = server.get_host_and_port()
        result = subprocess.run(
            [sys.executable, "-m", "signpost.admin", "--local", "directory", "diff", str(SMOKE)],
            env={**os.environ, "LOCAL_AWS_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert "+ SIGNPOST-SMOKE create" in result.stdout
    # the demo directory seeded in this process is what the other process read
    assert "? E09000007 is in the table but not in the file" in result.stdout
