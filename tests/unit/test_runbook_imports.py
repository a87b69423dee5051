"""docs/runbook.md's *Imports* section states the stack's own figures: when an upload is
deleted, how long a batch is retried and kept, when a report expires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from signpost.logic.imports import NOT_QUEUED_AFTER, UPLOAD_KEPT
from signpost.settings import Settings

from infrastructure.local.aws import parsed_template

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"


def _section() -> str:
    text = RUNBOOK.read_text(encoding="utf-8")
    start = text.index("## 8. Imports")
    return " ".join(text[start : text.index("\n## ", start + 1)].split())


def _resource(name: str) -> dict[str, Any]:
    return dict(parsed_template()["Resources"][name]["Properties"])


def test_the_runbook_names_the_imports_retention_and_retries() -> None:
    section = _section()
    (rule,) = _resource("ImportsBucket")["LifecycleConfiguration"]["Rules"]
    assert f"**{rule['ExpirationInDays']} days** after the upload" in section
    queue = _resource("ImportQueue")
    receives = queue["RedrivePolicy"]["maxReceiveCount"]
    assert f"visibility timeout ({queue['VisibilityTimeout'] // 60} minutes)" in section
    assert f"after about {receives * queue['VisibilityTimeout'] // 60} minutes" in section
    assert f"SQS keeps a message {queue['MessageRetentionPeriod'] // 86400} days" in section
    assert f"an import not complete {UPLOAD_KEPT.days} days after its upload" in section
    dead_letters = _resource("ImportDeadLetterQueue")
    assert f"keeps them {dead_letters['MessageRetentionPeriod'] // 86400} days" in section
    assert f"still `queued` {NOT_QUEUED_AFTER.seconds // 60} minutes after the upload" in section
    report_days = Settings.model_fields["import_report_days"].default
    assert f"**`IMPORT_REPORT_DAYS`** ({report_days})" in section


def test_the_runbook_answers_the_import_alarm() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    assert "ImportFailuresAlarm" in parsed_template()["Resources"]
    (row,) = [line for line in text.splitlines() if line.startswith("| ImportFailuresAlarm |")]
    assert "(#8-imports)" in row
    assert "Do not redrive the dead-letter queue" in _section()
