"""The layer `sam build` makes (layers/signpost/Makefile): no second botocore, bytecode included."""

from __future__ import annotations

import re
from pathlib import Path

from infrastructure.cfn_yaml import load_template

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "layers" / "signpost" / "Makefile").read_text(encoding="utf-8")


def test_the_layer_is_built_by_its_makefile_for_arm64() -> None:
    layer = load_template(ROOT / "template.yaml")["Resources"]["SignpostLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert layer["Properties"]["ContentUri"] == "layers/signpost/"
    assert "build-SignpostLayer:" in MAKEFILE
    assert "LAYER_PLATFORM ?= manylinux2014_aarch64" in MAKEFILE
    assert "--python-version 3.12" in MAKEFILE


def test_the_runtime_s_boto3_and_botocore_are_not_shipped_again() -> None:
    provided = re.search(r"^RUNTIME_PROVIDED := (.+)$", MAKEFILE, re.MULTILINE)
    assert provided is not None
    assert {"boto3", "botocore", "s3transfer"} <= set(provided.group(1).split())
    assert "for p in $(RUNTIME_PROVIDED); do rm -rf $$p $$p-*.dist-info; done" in MAKEFILE
    requirements = (ROOT / "layers" / "signpost" / "requirements.txt").read_text(encoding="utf-8")
    names = {
        re.split(r"[\[<>=~ ]", line)[0].lower() for line in requirements.splitlines() if line[:1].isalpha()
    }
    assert not names & {"boto3", "botocore"}


def test_the_layer_carries_bytecode_that_stays_valid_in_a_zip() -> None:
    assert "-m compileall" in MAKEFILE
    assert "--invalidation-mode unchecked-hash" in MAKEFILE
    # the compile step runs last, after the package is copied in
    assert MAKEFILE.index("cp -R signpost") < MAKEFILE.index("-m compileall")
