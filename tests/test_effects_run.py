"""``zhili run --effects``: the topic-effects tables, the manifest and the report section, and coded
errors (no traceback) for a formula the run cannot estimate."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from zhili.cli import main
from zhili.pipeline import RunSettings, ingest, to_units

CITIES = ["南通", "苏州", "无锡"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The seed's 18 paragraphs as documents with planted years (2015-2020) and cities."""
    paragraphs = to_units(ingest(RunSettings()), RunSettings(unit="paragraph")).docs["text"].tolist()
    path = tmp_path_factory.mktemp("effects") / "reports.csv"
    pd.DataFrame({"id": [f"p{i}" for i in range(len(paragraphs))], "text": paragraphs,
                  "year": [2015 + i % 6 for i in range(len(paragraphs))],
                  # each city in every year: a city that followed from the year would be collinear (E142)
                  "city": [CITIES[(i // 6) % 3] for i in range(len(paragraphs))]}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def results(reports):
    out = reports.parent / "res"
    assert main(["-q", "run", str(reports), "--topics", "3", "--effects", "s(year) + city", "--out", str(out),
                 "--no-cache"]) == 0
    return out


def zhili(*args):
    return subprocess.run([sys.executable, "-m", "zhili.cli", *args], capture_output=True, text=True)


def test_effects_table_holds_every_estimate_inside_its_interval(results):
    fx = pd.read_csv(results / "tables" / "topic_effects.csv", encoding="utf-8-sig")
    assert list(fx.columns) == ["topic", "label", "covariate", "level", "reference", "estimate", "ci_low",
                                "ci_high", "p"]
    assert ((fx["ci_low"] <= fx["estimate"]) & (fx["estimate"] <= fx["ci_high"])).all()
    assert fx["p"].between(0, 1).all()
    assert set(fx["covariate"]) == {"year", "city"} and set(fx["topic"]) == {0, 1, 2}
    city = fx[fx["covariate"] == "city"]
    assert city["reference"].nunique() == 1 and set(city["level"]) | set(city["reference"]) == set(CITIES)
    assert (fx.loc[fx["covariate"] == "year", "level"] == "per unit").all()


def test_expected_shares_are_on_the_share_scale(results):
    ex = pd.read_csv(results / "tables" / "topic_effects_expected.csv", encoding="utf-8-sig")
    assert ex[["estimate", "ci_low", "ci_high"]].stack().between(0, 1).all()
    assert ((ex["ci_low"] <= ex["estimate"]) & (ex["estimate"] <= ex["ci_high"])).all()
    assert sorted(ex.loc[ex["covariate"] == "year", "value"].astype(int).unique()) == list(range(2015, 2021))


def test_manifest_records_effects_coword_params_and_the_timing(results):
    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["effects"]["formula"] == "s(year) + city"
    assert manifest["effects"]["n_docs"] == 18 and manifest["effects"]["units_left_out"] == 0
    assert manifest["settings"]["effects"] == "s(year) + city"
    assert "effects" in manifest["timings"]
    assert manifest["coword"]["backbone"] == "disparity" and manifest["coword"]["density"] < 0.3
    assert {"topic_effects", "topic_effects_expected"} <= set(manifest["tables"])


def test_report_has_the_effects_section(results):
    html = (results / "report.html").read_text(encoding="utf-8")
    assert 'id="effects"' in html and "s(year) + city" in html


@pytest.mark.parametrize("args, code, words", [
    (["--topics", "3", "--effects", "s(year) + county"], "E143", ["'county'", "available:", "year", "city"]),
    (["--effects", "s(year)"], "E144", ["--topics"]),
    (["--topics", "3", "--effects", "s(year"], "E142", ["cannot read"]),
], ids=["unknown_variable", "no_topic_model", "unreadable_formula"])
def test_a_formula_the_run_cannot_estimate_is_a_coded_error(reports, tmp_path, args, code, words):
    out = zhili("run", str(reports), "--out", str(tmp_path / "res"), "--no-cache", *args)
    assert out.returncode == 1
    assert f"[{code}]" in out.stderr and "Traceback" not in out.stderr
    assert all(w in out.stderr for w in words), out.stderr
    assert not (tmp_path / "res").exists()  # failed before any results were written
