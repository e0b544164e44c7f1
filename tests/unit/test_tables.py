"""The one CSV writer: header in the first line, units and meanings in a Table Schema sidecar."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import simbev
from simbev.formats.tables import Column, read_schema, schema_path, write_table
from simbev.model.states import DERIVED_NAMES, STATE_NAMES

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def result():
    scenario = simbev.Scenario(name="short", species="mouse", duration_days=6.0, output_every_days=1.0,
                               treatments=(simbev.Regimen("bevacizumab", (5.0, "mg/kg"), "iv_bolus",
                                                          start_day=1, every_days=3, doses=2),))
    return simbev.simulate(scenario)


def test_timeseries_reads_with_plain_pandas_and_dictreader(result, tmp_path):
    """Guards against: a ``# units:`` line before the header (pandas took it as the header,
    DictReader returned one row too many)."""
    path = result.to_csv(tmp_path / "timeseries.csv")
    df = pd.read_csv(path)
    assert list(df.columns) == ["time_days", *STATE_NAMES, *DERIVED_NAMES]
    assert len(df) == len(result.time)
    np.testing.assert_array_equal(df["tumor_volume"].to_numpy(), result["tumor_volume"])  # exact floats
    with open(path, encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(result.time)


def test_schema_sidecar_lists_every_column_with_its_unit(result, tmp_path):
    path = result.to_csv(tmp_path / "timeseries.csv")
    assert schema_path(path).name == "timeseries.schema.json"
    schema = read_schema(path)
    names = [f["name"] for f in schema["fields"]]
    assert names == list(pd.read_csv(path).columns)
    units = {f["name"]: f["unit"] for f in schema["fields"]}
    assert units == dict(result.units)
    assert all(f["description"] for f in schema["fields"])
    assert schema["missingValues"] == [""]


def test_write_table_missing_values_and_row_check(tmp_path):
    cols = [Column("arm", "", "arm", "string"), Column("ttp", "day", "time to progression")]
    path = write_table(tmp_path / "t.csv", cols, [["a", 1.5], ["b", None], ["c", float("nan")]])
    df = pd.read_csv(path)
    assert df["ttp"].isna().tolist() == [False, True, True]
    assert json.loads(schema_path(path).read_text())["fields"][1]["unit"] == "day"
    with pytest.raises(ValueError, match="cells"):
        write_table(tmp_path / "u.csv", cols, [["a"]])
    assert not (tmp_path / "u.csv").exists() and not list(tmp_path.glob("*.part"))


def test_result_units_mapping_and_deprecated_call(result):
    assert result.units["tumor_volume"] == "mm^3"
    with pytest.warns(DeprecationWarning):
        assert result.units() == dict(result.units)


def test_to_frame_has_units_in_attrs(result):
    df = result.to_frame()
    assert list(df.columns) == ["time_days", *STATE_NAMES, *DERIVED_NAMES]
    assert df.attrs["units"]["time_days"] == "day"
    np.testing.assert_array_equal(df["mif"].to_numpy(), result["mif"])


def test_repr_is_short(result):
    text = repr(result)
    assert len(text) < 200 and "short" in text and "bevacizumab" in text


def test_metrics_is_a_dict_computed_once(result):
    m = result.metrics
    assert m["final_tumor_volume"] == pytest.approx(result["tumor_volume"][-1])
    assert result.metrics is not m and result.metrics == m  # same values, from the cache
    assert result.metrics() == dict(m)  # the old call form still works
    assert result.metrics(["tumor_volume@2"])["tumor_volume@2"] == pytest.approx(result["tumor_volume"][2])


def test_parameter_typo_in_simulate_is_an_input_error_with_a_suggestion():
    """Guards against: a misspelt parameter in ``simulate`` raising a bare KeyError with no hint."""
    scenario = simbev.Scenario(name="s", species="mouse", duration_days=1.0)
    with pytest.raises(simbev.InputError) as info:
        simbev.simulate(scenario, parameters={"mif_expresion": 0.2})
    text = str(info.value)
    assert "parameters.mif_expresion" in text and "did you mean 'mif_expression'" in text
    assert isinstance(info.value, KeyError) and not text.startswith("'")  # old except KeyError still works
