"""Generate a Python client from openapi.json with openapi-python-client, as an integrator would.

Fails on any warning or error the generator reports (a response it cannot type, a schema it skips),
so the published document stays one that client generators accept as it is. `make lint` runs it;
`make client` keeps the generated package (`--keep DIR`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "layers" / "signpost" / "signpost" / "openapi.json"
# What openapi-python-client prints when it had to leave something out or could not finish.
TROUBLE = re.compile(r"warning|error|unable|unsupported|skipping|cannot", re.IGNORECASE)


def generate(output: Path) -> tuple[int, str]:
    tool = Path(sys.executable).parent / "openapi-python-client"
    env = {**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # ruff hooks
    done = subprocess.run(
        [str(tool), "generate", "--path", str(DOCUMENT), "--output-path", str(output), "--overwrite"],
        capture_output=True,
        text=True,
        env=env,
        cwd=output.parent,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).strip()


def main() -> int:
    keep = Path(sys.argv[sys.argv.index("--keep") + 1]) if "--keep" in sys.argv else None
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "signpost-api-client"
        code, text = generate(output)
        print(text)
        trouble = [line for line in text.splitlines() if TROUBLE.search(line)]
        if code != 0 or trouble:
            print(f"openapi-python-client: exit {code}; {len(trouble)} warning line(s)", file=sys.stderr)
            return 1
        modules = sorted(output.rglob("*.py"))
        operations = [m for m in modules if m.parent.parent.name == "api" and m.name != "__init__.py"]
        print(
            f"openapi-python-client: {len(operations)} operations, {len(modules)} modules, no warnings",
        )
        if keep is not None:
            target = keep if keep.is_absolute() else ROOT / keep
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(output, target)
            print(f"kept in {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
