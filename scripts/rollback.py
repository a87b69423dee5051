"""Roll a stack back to what it was before this deployment, when the smoke test fails.

    python scripts/rollback.py save STACK --dir DIR      # before `sam deploy`
    python scripts/rollback.py restore STACK --dir DIR   # after a failed smoke test

A deployment that CloudFormation completed cannot be rolled back by CloudFormation any
more, so `save` keeps the stack's previous template (as submitted: the packaged SAM
template, whose code is still in the artefact bucket) and parameters, and `restore`
deploys them again. A first deployment has nothing to go back to: `restore` says so and
fails, leaving the new stack for inspection (docs/runbook.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError


def save(stack: str, folder: Path, cloudformation: Any) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        (folder / "previous.json").write_text(json.dumps({"exists": False}))
        return False
    body = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    text = body if isinstance(body, str) else json.dumps(body)
    (folder / "previous-template.yaml").write_text(text, encoding="utf-8")
    previous = {
        "exists": True,
        "parameters": {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])
        },
        "tags": {t["Key"]: t["Value"] for t in described.get("Tags", [])},
        "capabilities": described.get("Capabilities", ["CAPABILITY_IAM"]),
    }
    (folder / "previous.json").write_text(json.dumps(previous, indent=2))
    return True


def restore_command(stack: str, folder: Path, bucket: str | None) -> list[str] | None:
    """The `sam deploy` that puts the previous template and parameters back (None: nothing saved)."""
    previous = json.loads((folder / "previous.json").read_text())
    if not previous["exists"]:
        return None
    command = [
        "sam", "deploy", "--stack-name", stack, "--template-file", str(folder / "previous-template.yaml"),
        "--capabilities", *previous["capabilities"], "--no-confirm-changeset", "--no-fail-on-empty-changeset",
    ]  # fmt: skip
    command += ["--s3-bucket", bucket] if bucket else ["--resolve-s3"]
    if previous["parameters"]:
        command += ["--parameter-overrides", *(f'{k}="{v}"' for k, v in previous["parameters"].items())]
    if previous["tags"]:
        command += ["--tags", *(f"{k}={v}" for k, v in previous["tags"].items())]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["save", "restore"])
    parser.add_argument("stack")
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.action == "save":
        existed = save(args.stack, args.dir, boto3.client("cloudformation"))
        print(f"rollback: {'saved the previous template and parameters' if existed else 'first deployment'}")
        return 0
    command = restore_command(args.stack, args.dir, os.environ.get("SIGNPOST_ARTIFACT_BUCKET"))
    if command is None:
        print(
            "rollback: first deployment, nothing to roll back to; the stack stays for inspection",
            file=sys.stderr,
        )
        return 1
    print(f"rollback: redeploying the previous template of {args.stack}")
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
