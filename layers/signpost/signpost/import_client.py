"""`signpost-admin import FILE --org CODE`: upload a caseload CSV, follow it, write its reports.

An HTTP client of the API (POST /v1/imports, GET /v1/imports/{id}), run by the person who
uploads, with their own token (--token or SIGNPOST_TOKEN). Against the local stack it can
ask the stack's development issuer for one. It writes, next to the file:

    <file>.rejects.csv      row, local_id, code, field      (what to correct and upload again)
    <file>.duplicates.csv   row, local_id, organisation, organisation_name, team, phone, email,
                            child_id (children already active at another organisation: call them)

Only what the API answered is printed or written; the API never returns identity values.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from signpost.commands import EXIT_FAILED, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Command

DEFAULT_API = "http://127.0.0.1:3000"
PAGE = 1000
_DONE = ("completed", "failed")


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('title', '')}")
        self.status = status
        self.problem = problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the CSV file (header: local_id, given_names, ...)")
    parser.add_argument("--org", required=True, help="the organisation code you import for (e.g. E09000007)")
    parser.add_argument(
        "--api",
        default=os.environ.get("SIGNPOST_API", DEFAULT_API),
        help=f"API base URL (default: SIGNPOST_API, else {DEFAULT_API}, the default of make local)",
    )
    parser.add_argument(
        "--token", default=os.environ.get("SIGNPOST_TOKEN"), help="bearer token (default: SIGNPOST_TOKEN)"
    )
    parser.add_argument(
        "--role", default="la_practitioner", help="role of the development token on the local stack"
    )
    parser.add_argument("--sub", default="signpost-admin", help="practitioner id of the development token")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between progress checks")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up following after this long")


class Client:
    def __init__(self, api: str, token: str | None = None) -> None:
        self.api = api.rstrip("/")
        self.token = token

    def call(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.api + path, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - an http(s) URL given by the user
                return response.status, dict(response.headers), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                problem = json.loads(error.read() or b"{}")
            except ValueError:
                problem = {"title": error.reason}
            raise ApiError(error.code, problem if isinstance(problem, dict) else {}) from None

    def dev_token(self, org: str, role: str, sub: str) -> str:
        body = json.dumps({"org": org, "role": role, "sub": sub}).encode()
        _, _, answer = self.call("POST", "/dev/token", body, "application/json")
        return str(answer["access_token"])


def token_org(token: str) -> str | None:
    """The `org` claim of a JWT, read (not verified: the API verifies it) to catch a wrong --org."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    org = claims.get("org") if isinstance(claims, dict) else None
    return str(org) if org else None


def _is_local(api: str) -> bool:
    return urllib.parse.urlsplit(api).hostname in ("127.0.0.1", "localhost", "::1")


def _problem_lines(error: ApiError) -> list[str]:
    problem = error.problem
    lines = [f"refused: {error.status} {problem.get('title', '')} {problem.get('detail', '')}".rstrip()]
    lines += [f"  {e.get('field')}: {e.get('message')}" for e in problem.get("errors") or []]
    return lines


def progress_line(view: dict[str, Any], width: int = 30) -> str:
    total, done = int(view.get("rows_total") or 0), int(view.get("rows_done") or 0)
    filled = int(width * done / total) if total else 0
    counts = "  ".join(
        f"{name} {int(view.get(name) or 0):,}" for name in ("accepted", "unchanged", "duplicates", "rejected")
    )
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} rows  {counts}  {view.get('status')}"


def follow(
    client: Client,
    import_id: str,
    *,
    poll: float,
    timeout: float,
    show: Callable[[dict[str, Any]], None],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the import until it completes or fails (or `timeout`), showing each new state."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while True:
        _, _, view = client.call("GET", f"/v1/imports/{import_id}?limit=1")
        if view != last:
            show(view)
            last = view
        if view.get("status") in _DONE or time.monotonic() >= deadline:
            return dict(view)
        sleep(poll)


def full_report(client: Client, import_id: str) -> dict[str, Any]:
    """The import's view with every page of rejects and duplicates."""
    _, _, report = client.call("GET", f"/v1/imports/{import_id}?limit={PAGE}")
    cursor = report.pop("cursor", None)
    while cursor:
        _, _, page = client.call(
            "GET", f"/v1/imports/{import_id}?limit={PAGE}&cursor={urllib.parse.quote(cursor)}"
        )
        report["rejects"] += page["rejects"]
        report["duplicates_detail"] += page["duplicates_detail"]
        cursor = page.get("cursor")
    return dict(report)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: a leading quote before anything it would run.

    A contact team is free text typed at another organisation, a local_id whatever the file held."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_reports(path: Path, report: dict[str, Any]) -> tuple[Path, Path]:
    rejects_path = path.with_name(path.name + ".rejects.csv")
    with rejects_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "local_id", "code", "field"])
        for reject in report.get("rejects", []):
            cells = [reject["row"], reject.get("local_id") or "", reject["code"], reject.get("field") or ""]
            writer.writerow([_cell(c) for c in cells])
    duplicates_path = path.with_name(path.name + ".duplicates.csv")
    with duplicates_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["row", "local_id", "organisation", "organisation_name", "team", "phone", "email", "child_id"]
        )
        for duplicate in report.get("duplicates_detail", []):
            for signpost in duplicate["signposts"]:
                org, contact = signpost["organisation"], signpost["contact"]
                cells = [
                    duplicate["row"],
                    duplicate["local_id"],
                    org["code"],
                    org["name"],
                    contact["team"],
                    contact["phone"],
                    contact["email"],
                    signpost.get("child_id") or "",
                ]
                writer.writerow([_cell(c) for c in cells])
    return rejects_path, duplicates_path


def run(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    err = err or sys.stderr
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        out.write(f"cannot read {args.file}: {type(exc).__name__}\n")
        return EXIT_USAGE
    client = Client(args.api, args.token)
    try:
        if not client.token:
            if not _is_local(args.api):
                out.write("no token: pass --token or set SIGNPOST_TOKEN\n")
                return EXIT_USAGE
            client.token = client.dev_token(args.org, args.role, args.sub)
        if token_org(client.token) not in (None, args.org):
            out.write(f"the token is for another organisation than {args.org}\n")
            return EXIT_USAGE
        _, _, accepted = client.call("POST", "/v1/imports", data, "text/csv")
        import_id = str(accepted["import_id"])
        out.write(f"import {import_id} queued ({len(data):,} bytes)\n")
        live = err.isatty()

        def show(view: dict[str, Any]) -> None:
            line = progress_line(view)
            err.write(("\r" + line) if live else (line + "\n"))
            err.flush()

        final = follow(client, import_id, poll=args.poll, timeout=args.timeout, show=show)
        if live:
            err.write("\n")
        report = full_report(client, import_id)
    except ApiError as error:
        out.write("\n".join(_problem_lines(error)) + "\n")
        return EXIT_USAGE if error.status < 500 else EXIT_FAILED
    except (urllib.error.URLError, OSError) as exc:
        out.write(f"cannot reach {args.api}: {type(exc).__name__}\n")
        return EXIT_FAILED
    rejects_path, duplicates_path = write_reports(args.file, report)
    if not (live and out.isatty()):  # a terminal already shows the final progress line
        out.write(progress_line(report) + "\n")
    out.write(f"rejects: {len(report['rejects'])} -> {rejects_path}\n")
    out.write(f"duplicates: {len(report['duplicates_detail'])} -> {duplicates_path}\n")
    if final.get("status") not in _DONE:
        out.write(f"still {final.get('status')} after {args.timeout:.0f} s: the reports show it so far\n")
        return EXIT_PROBLEMS
    return EXIT_OK if report.get("status") == "completed" else EXIT_PROBLEMS


COMMAND = Command(
    "import",
    "upload a caseload CSV, follow its progress, write the reject report next to it",
    add_arguments,
    run,
    description="An API client (POST /v1/imports) run with your own token; against make local it gets a "
    "development token. Writes FILE.rejects.csv (row, local_id, code, field) and FILE.duplicates.csv.",
)
