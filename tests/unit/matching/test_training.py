"""`make train-matching` is reproducible: the same seed gives the same files, whatever the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from signpost.matching import MatchConfig
from signpost.matching.config import FIELD_LEVELS

ROOT = Path(__file__).resolve().parents[3]
SMALL = ["--children", "3000", "--searches", "600", "--random-pairs", "20000"]


def _train(tmp_path: Path, name: str, hash_seed: str) -> tuple[str, str]:
    out, frequencies = tmp_path / f"{name}.json", tmp_path / f"{name}-frequencies.json"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "train_matching.py"),
            *SMALL,
            *("--out", str(out), "--frequencies", str(frequencies)),
        ],
        check=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=240,
    )
    return out.read_text(), frequencies.read_text()


def test_training_twice_from_one_seed_writes_identical_files(tmp_path: Path) -> None:
    first = _train(tmp_path, "a", "1")
    second = _train(tmp_path, "b", "2")
    assert first == second
    config = MatchConfig.model_validate(json.loads(first[0]))
    assert config.provenance["seed"] == 2026
    assert config.provenance["size"]["children"] == 3000
    for field, levels in FIELD_LEVELS.items():
        weights = [config.weight(field, level) for level in levels]
        assert weights[0] > 0 > config.weight(field, "disagree"), field
    frequencies = json.loads(first[1])
    assert frequencies["given"]
    assert frequencies["family"]
