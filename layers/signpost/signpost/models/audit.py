"""Access log entries as the API shows them."""

from __future__ import annotations

import datetime as dt

from signpost.models.common import OutModel


class AccessLogEntry(OutModel):
    at: dt.datetime
    org: str
    role: str
    action: str
    reason: str | None = None
    outcome: str | None = None


class AccessLog(OutModel):
    items: list[AccessLogEntry]
