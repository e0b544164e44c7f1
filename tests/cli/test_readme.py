"""The README runs as written: its shell blocks after the two set-up commands run in order, in
one shell, in a fresh copy of the repository; its Python blocks run after them; every CSV they
write reads with plain pandas and matches its schema sidecar."""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def _copy_repository(dest: Path) -> None:
    """The tracked files of the working tree (what a fresh clone holds, with uncommitted edits)."""
    try:
        files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    for name in filter(None, files.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def _venv_shims(clone: Path) -> None:
    """``.venv/bin/python`` and ``.venv/bin/simbev`` that reuse this interpreter's environment
    (installing again would take minutes), importing simbev from the copy."""
    bindir = clone / ".venv" / "bin"
    bindir.mkdir(parents=True)
    env = f'export PYTHONPATH="{clone}${{PYTHONPATH:+:$PYTHONPATH}}"\n'
    for name, command in (("python", f'exec "{sys.executable}" "$@"'),
                          ("simbev", f'exec "{sys.executable}" -m simbev "$@"')):
        path = bindir / name
        path.write_text(f"#!/usr/bin/env bash\n{env}{command}\n", encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_commands_are_two_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = [b.strip() for b in blocks(readme, "bash") if "python3 -m venv .venv" in b]
    assert len(setup) == 2
    assert setup[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/simbev run configs/scenarios/" in setup[0]


def test_readme_blocks_run_verbatim(tmp_path):
    """Guards against: README commands that fail as written (bare `simbev` without an activated
    venv, `export-sbml` without its extra, a sweep block that does not finish)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shell = [b for b in blocks(readme, "bash") if "python3 -m venv .venv" not in b]
    assert shell, "the README has no usage blocks"
    for b in shell:  # every command uses the set-up's venv: no bare simbev/python/pip
        for line in b.splitlines():
            assert not re.match(r"\s*(simbev|python|pip)\b", line), line
    clone = tmp_path / "clone"
    clone.mkdir()
    _copy_repository(clone)
    _venv_shims(clone)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    script = "set -e\n" + "\n".join(shell)
    proc = subprocess.run(["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for code in blocks(readme, "python"):
        proc = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c", code], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]

    pd = pytest.importorskip("pandas")
    csvs = sorted(p for p in clone.rglob("*.csv") if ".venv" not in p.parts and "experiments" not in p.parts)
    assert {p.name for p in csvs} >= {"timeseries.csv", "metrics.csv", "results.csv", "out.csv"}
    for path in csvs:
        schema = json.loads(path.with_name(path.stem + ".schema.json").read_text(encoding="utf-8"))
        assert list(pd.read_csv(path).columns) == [f["name"] for f in schema["fields"]], path
        assert all("unit" in f and f["description"] for f in schema["fields"]), path
    assert (clone / "combination.xml").read_text(encoding="utf-8").startswith("<?xml")
