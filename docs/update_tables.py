"""Regenerate the tables of docs/model.md from the code (states.py and the parameter YAML files).

    python docs/update_tables.py          # rewrite the generated blocks in place
    python docs/update_tables.py --check  # exit 1 if docs/model.md is out of date

Each generated block sits between ``<!-- BEGIN NAME -->`` and ``<!-- END NAME -->`` markers;
everything outside the markers is hand-written and left alone.
"""
import re
import sys
from pathlib import Path

import simbev  # noqa: E402
from simbev.model.states import STATES, DERIVED

mouse, human = simbev.load_parameter_set("mouse"), simbev.load_parameter_set("human")
num = lambda x: f"{x:.10g}"


def param_table():
    def both(name, get):
        a, b = get(mouse.records[name]), get(human.records[name])
        return a if a == b else f"mouse: {a}; human: {b}"
    rows = ["| name | mouse value | human value | unit | range | source |", "|---|---|---|---|---|---|"]
    for name in mouse:
        m, h = mouse.records[name], human.records[name]
        rows.append(f"| `{name}` | {num(m.value)} | {num(h.value)} | {both(name, lambda r: r.unit)} "
                    f"| {both(name, lambda r: f'[{num(r.low)}, {num(r.high)}]')} | {both(name, lambda r: r.source)} |")
    return "\n".join(rows)


def assumed_table():
    rows = ["| name | assumed in | what it is | why this value (`note`) |", "|---|---|---|---|"]
    for name in mouse:
        recs = {s: ps.records[name] for s, ps in (("mouse", mouse), ("human", human))
                if ps.records[name].source == "assumed"}
        texts = {(r.description, r.note) for r in recs.values()}
        if len(texts) == 1:
            (desc, note), = texts
            rows.append(f"| `{name}` | {' and '.join(recs)} | {desc} | {note} |")
        else:
            rows += [f"| `{name}` | {s} | {r.description} | {r.note} |" for s, r in recs.items()]
    return "\n".join(rows)


def state_table():
    rows = ["| state | unit | meaning | mouse initial | human initial |", "|---|---|---|---|---|"]
    for s in STATES:
        rows.append(f"| `{s.name}` | {s.unit} | {s.description} | {num(mouse.initial_conditions.get(s.name, 0.0))} "
                    f"| {num(human.initial_conditions.get(s.name, 0.0))} |")
    return "\n".join(rows)


def derived_table():
    rows = ["| output | unit | definition |", "|---|---|---|"]
    rows += [f"| `{d.name}` | {d.unit} | {d.description} |" for d in DERIVED]
    return "\n".join(rows)


def counts():
    n = len(mouse)
    am = sum(r.source == "assumed" for r in mouse.records.values())
    ah = sum(r.source == "assumed" for r in human.records.values())
    return f"{n} parameters; source `assumed`: {am} in the mouse set, {ah} in the human set (the five knobs included)"



BLOCKS = {"PARAM_TABLE": param_table, "ASSUMED_TABLE": assumed_table, "STATE_TABLE": state_table,
          "DERIVED_TABLE": derived_table, "COUNTS": counts}
MODEL_MD = Path(__file__).with_name("model.md")


def render(text: str) -> str:
    """``text`` with every marked block regenerated."""
    for key, fn in BLOCKS.items():
        pattern = re.compile(rf"(<!-- BEGIN {key} -->).*?(<!-- END {key} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{MODEL_MD}: no <!-- BEGIN {key} --> block")
        text = pattern.sub(lambda m: f"{m.group(1)}\n{fn()}\n{m.group(2)}", text)
    return text


if __name__ == "__main__":
    current = MODEL_MD.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in sys.argv:
        sys.exit(0 if fresh == current else 1)
    MODEL_MD.write_text(fresh, encoding="utf-8")
