"""Offline checks of .github/workflows (part of `make lint`): the rules a security reviewer signs.

1. Schema: every workflow validates against the GitHub workflow JSON schema that
   check-jsonschema ships (`--builtin-schema vendor.github-workflows`, no network).
2. Policy (what the schema cannot say):
   - every action is pinned to a full 40-hex commit SHA, with its release in a comment;
   - every workflow declares `permissions`, none grants `write-all`, and `id-token: write`
     appears only on jobs that run in a GitHub environment (or call a workflow that does);
   - no `pull_request_target`, no `${{ ... }}` inside a `run:` script (values reach
     scripts through `env:`, never by text substitution), checkouts keep no credentials;
   - a job in a GitHub environment runs only from main and has a concurrency group of its
     own environment that never cancels a deployment half-way;
   - nothing deploys from a workflow-wide concurrency group (it would hold staging behind a
     pending prod approval).
Exit 0 when clean; otherwise each problem on a line and exit 1.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+){0,2}\b")
MAIN_ONLY = "github.ref == 'refs/heads/main'"


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return dict(data)


def _uses_lines(text: str) -> Iterator[tuple[int, str, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
        if match:
            yield number, match.group(1), match.group(2)


def _steps(workflow: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, job in (workflow.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            yield name, step


def problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    workflow = load(path)
    where = path.name
    found: list[str] = []
    for number, target, rest in _uses_lines(text):
        if target.startswith("./"):
            continue  # a workflow of this repository
        if not PINNED.match(target):
            found.append(f"{where}:{number}: {target} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.search(rest):
            found.append(f"{where}:{number}: {target} has no release comment (# vX.Y.Z)")
    triggers = workflow.get("on") or {}
    if "pull_request_target" in triggers:
        found.append(f"{where}: pull_request_target runs untrusted code with secrets")
    permissions = workflow.get("permissions")
    if permissions is None:
        found.append(f"{where}: no top-level permissions (the default token may write)")
    for scope in (
        permissions,
        *((j or {}).get("permissions") for j in (workflow.get("jobs") or {}).values()),
    ):
        if scope == "write-all" or (
            isinstance(scope, Mapping) and scope.get("id-token") == "write" and scope is permissions
        ):
            found.append(f"{where}: write-all or workflow-wide id-token: write")
    if isinstance(workflow.get("concurrency"), Mapping | str) and _deploys(workflow):
        found.append(
            f"{where}: a workflow-wide concurrency group would hold every environment behind one approval"
        )
    for name, job in (workflow.get("jobs") or {}).items():
        found += _job_problems(where, name, job or {})
    for name, step in _steps(workflow):
        script = step.get("run")
        if isinstance(script, str) and "${{" in script:
            found.append(f"{where}: job {name}: an expression inside run: (pass it through env:)")
        checkout = str(step.get("uses", "")).startswith("actions/checkout@")
        if checkout and (step.get("with") or {}).get("persist-credentials") is not False:
            found.append(f"{where}: job {name}: actions/checkout without persist-credentials: false")
    return found


def _deploys(workflow: Mapping[str, Any]) -> bool:
    return any("environment" in (j or {}) for j in (workflow.get("jobs") or {}).values())


def _job_problems(where: str, name: str, job: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    permissions = job.get("permissions") or {}
    oidc = isinstance(permissions, Mapping) and permissions.get("id-token") == "write"
    if oidc and "environment" not in job and "uses" not in job:
        found.append(f"{where}: job {name}: id-token: write outside a GitHub environment")
    if "environment" in job:
        if MAIN_ONLY not in str(job.get("if", "")):
            found.append(f"{where}: job {name}: runs in an environment without `if: {MAIN_ONLY}`")
        concurrency = job.get("concurrency")
        environment = str(
            job["environment"]
            if not isinstance(job["environment"], Mapping)
            else job["environment"].get("name")
        )
        if not isinstance(concurrency, Mapping):
            found.append(f"{where}: job {name}: no concurrency group of its own environment")
        else:
            names = re.findall(r"\$\{\{[^}]*\}\}", environment) or [environment]
            if not all(n in str(concurrency.get("group", "")) for n in names):
                found.append(f"{where}: job {name}: the concurrency group does not name the environment")
            if concurrency.get("cancel-in-progress") is not False:
                found.append(f"{where}: job {name}: a deployment could be cancelled half-way")
    if "uses" in job and oidc and MAIN_ONLY not in str(job.get("if", "")):
        found.append(f"{where}: job {name}: calls a deployment without `if: {MAIN_ONLY}`")
    return found


def schema_check(paths: list[Path]) -> int:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    return subprocess.run([*command, *map(str, paths)], check=False).returncode


def main() -> int:
    paths = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    status = 0 if schema_check(paths) == 0 else 1
    for path in paths:
        for problem in problems(path):
            print(problem)
            status = 1
    print(f"workflows: {len(paths)} checked, {'passed' if status == 0 else 'FAILED'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
