"""Every action the logic audits is in AuditAction, the closed list the access log publishes as an
enum (an entry with another action would be refused when written)."""

from __future__ import annotations

import ast
from pathlib import Path

from signpost.models.audit import AuditAction

LOGIC = Path(__file__).resolve().parents[3] / "layers" / "signpost" / "signpost"


def audited_actions() -> set[str]:
    """The string literals passed as the action of `AuditTrail(...).add(changes, chain, action, …)`."""
    found: set[str] = set()
    for path in LOGIC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
            ):
                continue
            if len(node.args) < 3 or not (
                isinstance(node.args[0], ast.Name) and node.args[0].id == "changes"
            ):
                continue
            found |= {
                c.value
                for c in ast.walk(node.args[2])
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
    return found


def test_every_audited_action_is_in_the_enum() -> None:
    actions = audited_actions()
    assert {"register", "search", "view"} <= actions  # the scan finds them
    literal = {a for a in actions if not a.endswith("_")}  # f"directory_{kind}" leaves its prefix
    assert literal <= {a.value for a in AuditAction}
    assert {f"directory_{kind}" for kind in ("create", "update")} <= {a.value for a in AuditAction}
