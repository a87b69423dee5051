"""The documentation cannot rot: docs/API.md lists exactly the document's operations, and the
README names every make target, points only inside the repository, and has no placeholders."""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path

from signpost import import_client

from tests.support.readme import README, ROOT, blocks, make_targets

LOCAL_ONLY = {("POST", "/dev/token")}  # served by the local stack only; never deployed


def test_docs_api_md_lists_exactly_the_operations_of_the_openapi_document() -> None:
    text = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    listed = {(m, p) for m, p in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)", text)}
    document = json.loads(resources.files("signpost").joinpath("openapi.json").read_text(encoding="utf-8"))
    published = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert listed - LOCAL_ONLY == published


def test_the_readme_points_only_inside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert "/work/" not in text
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):  # relative links
        assert (ROOT / target).exists(), target


def test_every_make_target_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    targets = make_targets()
    assert {"local", "test", "lint", "help", "openapi", "client"} <= targets
    assert not [t for t in targets if f"make {t}" not in text]


def test_every_make_target_is_in_the_readmes_table() -> None:
    """The README says every target `make help` lists is in "Tests, checks and benchmarks"."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Tests, checks and benchmarks") :]
    listed = set(re.findall(r"^\| `make ([a-z][a-z-]*)[^`]*` \|", table, re.MULTILINE))
    assert listed == make_targets()


def test_the_readme_names_the_columns_of_the_import_reports(tmp_path: Path) -> None:
    """`signpost-admin import` writes the reports with the columns the README promises."""
    rejects, duplicates = import_client.write_reports(tmp_path / "caseload.csv", {})
    text = " ".join(README.read_text(encoding="utf-8").split())
    for report in (rejects, duplicates):
        header = report.read_text(encoding="utf-8").splitlines()[0]
        assert f"(`{header.replace(',', ', ')}`" in text, header


def test_make_help_prints_the_port_not_a_variable() -> None:
    shown = subprocess.run(
        ["make", "--no-print-directory", "help", "PORT=8123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "$(" not in shown
    assert "http://127.0.0.1:8123" in shown
    assert {line.split()[1] for line in shown.splitlines()} == make_targets()


def test_shell_blocks_have_no_placeholders_and_use_the_venv() -> None:
    for block in blocks():
        if block.language != "bash":
            continue
        assert not re.search(r"<[a-z_]+>", block.body), f"README line {block.line}: a placeholder"
        assert not re.search(r"(^|\s)python\s", block.body), f"README line {block.line}: bare python"
        assert "signpost-admin" not in block.body or ".venv/bin/signpost-admin" in block.body


def test_long_blocks_name_real_make_targets() -> None:
    targets = make_targets()
    for block in blocks():
        for target in re.findall(r"\bmake (\w[\w-]*)", block.body):
            assert target in targets, f"README line {block.line}: make {target}"


def test_every_bash_block_is_runnable_or_marked() -> None:
    kinds = {(b.language, tag) for b in blocks() for tag in (b.tags or {""})}
    assert kinds <= {
        ("bash", ""),
        ("bash", "server"),
        ("bash", "long"),
        ("text", ""),
        ("text", "startup"),
        ("python", ""),
        ("json", ""),
    }
    assert len([b for b in blocks() if b.runnable]) >= 5
