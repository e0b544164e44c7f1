"""Safe YAML reading: duplicate keys, anchors/aliases, tags, unreadable files, line numbers."""
from __future__ import annotations

import math
import os

import pytest

from simbev.errors import InputError
from simbev.scenario.yamlsafe import join_path, line_of, load_yaml


def write(tmp_path, text, name="f.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path) -> InputError:
    with pytest.raises(InputError) as info:
        load_yaml(path)
    return info.value


def line_containing(text: str, fragment: str) -> int:
    """1-based number of the one line of ``text`` that contains ``fragment``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


# Good input ----------------------------------------------------------------------------------


def test_reads_data_and_the_line_of_every_key_and_item(tmp_path):
    text = ("# a comment\n"
            "name: x\n"
            "\n"
            "parameters:\n"
            "  a: 1\n"
            "  b: 2.5\n"
            "treatments:\n"
            "  - drug: bevacizumab\n"
            "    dose: 10 mg/kg\n"
            "  - {drug: mtor_inhibitor, dose: 1 mg}\n")
    data, lines = load_yaml(write(tmp_path, text))
    assert data == {"name": "x", "parameters": {"a": 1, "b": 2.5},
                    "treatments": [{"drug": "bevacizumab", "dose": "10 mg/kg"},
                                   {"drug": "mtor_inhibitor", "dose": "1 mg"}]}
    assert lines == {"": 2, "name": 2, "parameters": 4, "parameters.a": 5, "parameters.b": 6,
                     "treatments": 7, "treatments.0": 8, "treatments.0.drug": 8,
                     "treatments.0.dose": 9, "treatments.1": 10, "treatments.1.drug": 10,
                     "treatments.1.dose": 10}


def test_line_of_falls_back_to_the_nearest_recorded_ancestor():
    lines = {"": 1, "treatments": 3, "treatments.0": 4}
    assert line_of(lines, "treatments.0.dose") == 4
    assert line_of(lines, "treatments") == 3
    assert line_of(lines, "name") == 1
    assert line_of({}, "name") is None
    assert join_path("", "a") == "a" and join_path("treatments", 0) == "treatments.0"


def test_exponent_floats_are_numbers_as_in_yaml_1_2(tmp_path):
    """PyYAML's YAML 1.1 resolver alone would return '1e3' and '2.5e-4' as strings."""
    data, _ = load_yaml(write(tmp_path, "a: 1e3\nb: 2.5e-4\nc: -1E+2\nd: 1e3 mg\ne: 7\n"))
    assert data == {"a": 1000.0, "b": 2.5e-4, "c": -100.0, "d": "1e3 mg", "e": 7}
    assert isinstance(data["a"], float) and isinstance(data["e"], int)


def test_non_finite_numbers_are_returned_for_the_validator_to_refuse(tmp_path):
    data, _ = load_yaml(write(tmp_path, "a: .nan\nb: .inf\nc: -.inf\n"))
    assert math.isnan(data["a"]) and data["b"] == math.inf and data["c"] == -math.inf


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert load_yaml(path)[0] == {"name": "x"}


def test_a_plain_equals_sign_is_text(tmp_path):
    """PyYAML's SafeLoader cannot construct the YAML 1.1 'value' tag of a bare '='."""
    assert load_yaml(write(tmp_path, "a: =\n"))[0] == {"a": "="}


# Duplicate keys ------------------------------------------------------------------------------


def test_duplicate_top_level_key_is_refused_at_its_second_line(tmp_path):
    text = "name: a\nduration_days: 10\nname: b\n"
    err = refused(write(tmp_path, text))
    assert err.file == str(tmp_path / "f.yaml")
    assert err.line == 3
    assert err.key == "name"
    assert "duplicate key 'name' (first given at line 1)" in str(err)
    assert "each key at most once" in str(err)


def test_duplicate_key_inside_a_list_item_names_its_path(tmp_path):
    text = ("name: a\n"
            "treatments:\n"
            "  - drug: bevacizumab\n"
            "  - drug: bevacizumab\n"
            "    dose: 1 mg\n"
            "    drug: mtor_inhibitor\n")
    err = refused(write(tmp_path, text))
    assert (err.line, err.key) == (6, "treatments.1.drug")
    assert "first given at line 4" in str(err)


def test_equal_keys_written_differently_are_duplicates(tmp_path):
    err = refused(write(tmp_path, "p:\n  1: a\n  0x1: b\n"))
    assert (err.line, err.key) == (3, "p.1")


# Anchors, aliases, merge keys ----------------------------------------------------------------


def test_an_alias_is_refused_with_the_reason(tmp_path):
    text = "name: x\nbase: [1, 2]\ncopy:\n  - 0\n  - *base\n"
    err = refused(write(tmp_path, text))
    assert (err.line, err.key) == (5, "copy.1")
    assert "alias *base" in str(err)
    assert "anchors (&) and aliases (*) are not supported in scenario files" in str(err)


def test_an_anchor_is_refused_even_before_it_is_used(tmp_path):
    err = refused(write(tmp_path, "name: x\nparameters: &p\n  a: 1\n"))
    assert (err.line, err.key) == (2, "parameters")
    assert "anchor &p" in str(err) and "not supported in scenario files" in str(err)


def test_billion_laughs_is_refused_without_expanding(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    err = refused(write(tmp_path, "\n".join(lines) + "\n"))
    assert (err.line, err.key) == (1, "a0")
    assert "anchor &a0" in str(err)


def test_a_merge_key_is_refused(tmp_path):
    err = refused(write(tmp_path, "name: x\nparameters:\n  <<: {a: 1}\n"))
    assert (err.line, err.key) == (3, "parameters")
    assert "merge key '<<'" in str(err) and "not supported" in str(err)


# Tags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tagged, shown", [
    ("!!python/object:collections.OrderedDict {}", "!!python/object:collections.OrderedDict"),
    ("!!python/name:os.system", "!!python/name:os.system"),
    ("!include other.yaml", "!include"),
])
def test_non_standard_tags_are_refused(tmp_path, tagged, shown):
    err = refused(write(tmp_path, f"name: x\nparameters:\n  a: {tagged}\n"))
    assert (err.line, err.key) == (3, "parameters.a")
    assert f"tag {shown}" in str(err)
    assert "a plain value without a tag" in str(err)


def test_an_object_tag_runs_nothing(tmp_path):
    marker = tmp_path / "marker"
    text = f'x: !!python/object/apply:os.system ["touch {marker}"]\n'
    err = refused(write(tmp_path, text))
    assert (err.line, err.key) == (1, "x")
    assert not marker.exists()


def test_a_standard_tag_with_an_unreadable_value_is_refused(tmp_path):
    err = refused(write(tmp_path, "name: x\nn: !!int abc\n"))
    assert (err.line, err.key) == (2, "n")
    assert "!!int 'abc'" in str(err) and "a value that can be read as !!int" in str(err)


def test_a_standard_tag_is_accepted(tmp_path):
    assert load_yaml(write(tmp_path, "a: !!str 10\nb: !!float 2\n"))[0] == {"a": "10", "b": 2.0}


# Malformed YAML ------------------------------------------------------------------------------


def test_syntax_error_names_the_line(tmp_path):
    text = "name: x\nparameters:\n  a: 1\n b: 2\n"
    err = refused(write(tmp_path, text))
    assert err.line == 4
    assert "invalid YAML" in str(err) and "valid YAML syntax" in str(err)
    assert err.file == str(tmp_path / "f.yaml")


def test_several_documents_are_refused(tmp_path):
    err = refused(write(tmp_path, "a: 1\n---\nb: 2\n"))
    assert err.line == 2
    assert "single document" in str(err)


def test_control_character_is_refused_with_its_line(tmp_path):
    err = refused(write(tmp_path, "a: 1\nb: x\x01y\n"))
    assert err.line == 2
    assert "'\\x01'" in str(err) and "no control characters" in str(err)


def test_deep_nesting_is_refused_not_a_crash(tmp_path):
    err = refused(write(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert "nested too deeply" in str(err)


# Files that cannot be read -------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    err = refused(path)
    assert (err.file, err.line, err.key) == (str(path), None, None)
    assert "no such file" in str(err) and "an existing YAML file" in str(err)


def test_directory(tmp_path):
    err = refused(tmp_path)
    assert err.file == str(tmp_path) and err.line is None
    assert "a directory" in str(err) and "a readable UTF-8 YAML file" in str(err)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path, "a: 1\n")
    path.chmod(0)
    try:
        err = refused(path)
    finally:
        path.chmod(0o600)
    assert err.file == str(path)
    assert "permission denied" in str(err)


def test_non_utf8_file_names_the_line_of_the_bad_byte(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: x\ndescription: caf\u00e9\n".encode("latin-1"))
    err = refused(path)
    assert (err.file, err.line) == (str(path), 2)
    assert "0xe9" in str(err) and "UTF-8" in str(err)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, text)
    err = refused(path)
    assert err.file == str(path)
    assert "an empty file" in str(err) and "a mapping of keys to values at the top level" in str(err)


@pytest.mark.parametrize("text, found", [
    ("- name: x\n- name: y\n", "<a list>"),
    ("just text\n", "<plain text, not a mapping>"),
    ("~\n", "<null>"),
    ("42\n", "<the number 42>"),
    ("2020-01-01\n", "<a date value datetime.date(2020, 1, 1)>"),
])
def test_top_level_must_be_a_mapping(tmp_path, text, found):
    path = write(tmp_path, "# header\n" + text)
    err = refused(path)
    assert (err.file, err.line) == (str(path), 2)
    assert found in str(err)
    assert "a mapping of keys to values at the top level" in str(err)
