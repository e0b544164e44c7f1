"""experiments/e01_findings.py resumes its robustness samples from a checkpoint, and never
mixes in rows written by another version of the model."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def e01(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("e01_findings", ROOT / "experiments" / "e01_findings.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "e01_findings", module)  # the worker processes unpickle from it
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "CACHE", tmp_path)
    return module


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_resume_skips_done_samples_and_ignores_other_model_versions(e01, tmp_path):
    first = e01.robustness(2, 1)
    path = tmp_path / "robustness.jsonl"
    rows = _rows(path)
    assert len(rows) == 2 * len(e01.findings.SETTINGS)
    assert {r["model"] for r in rows} == {e01.model_fingerprint()}

    assert e01.robustness(2, 1) == first          # resumed: nothing recomputed, same table
    assert len(_rows(path)) == len(rows)

    # a row of another model version (here: every finding "holds" under a foreign fingerprint)
    # is not taken: its sample is recomputed
    forged = dict(rows[0], model="0" * 16, holds={k: not v for k, v in rows[0]["holds"].items()})
    path.write_text("\n".join(json.dumps(r) for r in [forged] + rows[1:]) + "\n")
    assert e01.robustness(2, 1) == first
    assert len(_rows(path)) == len(rows) + 1      # the missing sample was computed and appended
