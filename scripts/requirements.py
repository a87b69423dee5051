"""Print the requirements of the runtime plus the given extras, read from pyproject.toml
(`--build`: and what building the project needs).

`make local` installs these (`... | pip install -r /dev/stdin`), then the project itself without
its dependencies or an isolated build environment: one resolution, no second setuptools download.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def requirements(extras: list[str], *, build: bool = False) -> list[str]:
    pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    project = pyproject["project"]
    found = list(project["dependencies"])
    for extra in extras:
        found += project["optional-dependencies"][extra]
    if build:
        found += pyproject["build-system"]["requires"]
    return found


if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if not a.startswith("--")]
    print("\n".join(requirements(names, build="--build" in sys.argv)))
