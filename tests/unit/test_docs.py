"""The generated tables of docs/model.md match the code."""
import runpy
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_model_md_tables_are_up_to_date():
    mod = runpy.run_path(str(DOCS / "update_tables.py"), run_name="not_main")
    current = (DOCS / "model.md").read_text(encoding="utf-8")
    assert mod["render"](current) == current, "run: python docs/update_tables.py"


def test_every_parameter_is_documented():
    import simbev
    text = (DOCS / "model.md").read_text(encoding="utf-8")
    for name in simbev.load_parameter_set("mouse"):
        assert f"`{name}`" in text, name
