"""The organisation directory from a versioned file: validate, show what changes, apply with audit.

The file (a JSON list, the shape `PUT /v1/organisations/{code}` takes) is the source of
truth for the organisations it names. Applying it creates or replaces those entries
and writes one audit entry per change in the same transaction (chain
`DIRECTORY#<code>`), so running it twice changes nothing the second time. Entries in
the table that the file does not name are reported and left alone: an organisation
leaves by `"active": false` in the file, never by omission.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from signpost.authz import Caller
from signpost.logic.audit_trail import AuditTrail, commit_with_retries, directory_chain
from signpost.logic.services import Services
from signpost.models.common import OrgType
from signpost.models.domain import Changes
from signpost.models.organisation import Organisation, OrganisationIn


class DirectoryFileError(Exception):
    """The file cannot be used; `problems` says why (field paths and rules, never contact values)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DirectoryFile:
    organisations: list[Organisation]
    digest: str  # sha256 of the file's bytes: which version of the file an audit entry came from


def parse_directory_file(raw: bytes) -> DirectoryFile:
    """The file's organisations, validated as the API validates a PUT, or DirectoryFileError."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DirectoryFileError([f"not a JSON document ({type(exc).__name__})"]) from None
    try:
        entries = TypeAdapter(list[OrganisationIn]).validate_python(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            problems.append(f"invalid organisation at {where}: {err['msg']}")
        raise DirectoryFileError(problems) from None
    organisations = [Organisation.model_validate(e.model_dump()) for e in entries]
    return DirectoryFile(organisations, hashlib.sha256(raw).hexdigest())


def combine(files: list[DirectoryFile]) -> DirectoryFile:
    """Several files applied as one (e.g. the shared entries and an environment's own)."""
    digest = (
        files[0].digest
        if len(files) == 1
        else hashlib.sha256("".join(f.digest for f in files).encode()).hexdigest()
    )
    return DirectoryFile([o for f in files for o in f.organisations], digest)


def consistency_problems(
    organisations: list[Organisation], existing: Mapping[str, Organisation]
) -> list[str]:
    """Rules across entries that a single PUT cannot see."""
    problems: list[str] = []
    seen: set[str] = set()
    for org in organisations:
        if org.code in seen:
            problems.append(f"{org.code}: listed twice")
        seen.add(org.code)
    merged = {**existing, **{o.code: o for o in organisations}}
    authorities = {c for c, o in merged.items() if o.type == OrgType.LOCAL_AUTHORITY}
    for org in organisations:
        if org.type == OrgType.LOCAL_AUTHORITY and org.area != org.code:
            problems.append(f"{org.code}: a local authority's area is its own code")
        elif org.area is not None and org.area not in authorities:
            problems.append(f"{org.code}: area must be the code of a local authority in the directory")
        if org.sensitive_service and org.type != OrgType.HEALTH:
            problems.append(f"{org.code}: only a health organisation can be a sensitive service")
    return problems


@dataclass(frozen=True)
class EntryChange:
    code: str
    kind: str  # "create" | "update" | "unchanged"
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # dotted path -> (before, after)


@dataclass(frozen=True)
class DirectoryPlan:
    changes: list[EntryChange]
    only_in_table: list[str]  # codes the file does not name (left as they are)

    @property
    def pending(self) -> list[EntryChange]:
        return [c for c in self.changes if c.kind != "unchanged"]


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in values.items():
        path = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def plan(organisations: Iterable[Organisation], existing: Mapping[str, Organisation]) -> DirectoryPlan:
    changes: list[EntryChange] = []
    named: set[str] = set()
    for org in organisations:
        named.add(org.code)
        current = existing.get(org.code)
        if current is None:
            changes.append(EntryChange(org.code, "create"))
            continue
        before, after = _flatten(current.model_dump(mode="json")), _flatten(org.model_dump(mode="json"))
        diff = {
            path: (before.get(path), after.get(path))
            for path in sorted(set(before) | set(after))
            if before.get(path) != after.get(path)
        }
        changes.append(EntryChange(org.code, "update" if diff else "unchanged", diff))
    return DirectoryPlan(changes, sorted(set(existing) - named))


def apply(
    services: Services,
    operator: Caller,
    organisations: Iterable[Organisation],
    directory_plan: DirectoryPlan,
    source_digest: str,
) -> int:
    """Write each pending change with its audit entry (one transaction per organisation)."""
    wanted = {o.code: o for o in organisations}
    written = 0
    for change in directory_plan.pending:
        org = wanted[change.code]

        def attempt(org: Organisation = org, change: EntryChange = change) -> None:
            changes = Changes(put_organisations=[org])
            AuditTrail(services, operator).add(
                changes,
                directory_chain(org.code),
                f"directory_{change.kind}",
                details={"fields": sorted(change.fields), "source_sha256": source_digest},
            )
            services.store.commit(changes)

        commit_with_retries(attempt)
        written += 1
    return written
