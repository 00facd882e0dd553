"""Covariate effects (stm's estimateEffect workflow): calibrated on a coin flip, a planted
trend recovered with its sign, fixed effects and several covariates, expected shares in [0, 1]."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from zhili.effects import parse_formula, topic_effects
from zhili.errors import ZhiliError, ZhiliWarning


def synthetic(n_docs: int = 120, paragraphs: int = 2, k: int = 5, trend: float = 0.0, seed: int = 0,
              province_effect: float = 0.0) -> types.SimpleNamespace:
    """Documents across 2010-2019 and 6 provinces; topic 0's share rises by ``trend`` a year
    (and by ``province_effect`` in province 'B'); units are noisy around their document."""
    rng = np.random.default_rng(seed)
    rows, alphas = [], []
    provinces = list("ABCDEF")
    for i in range(n_docs):
        year, province = 2010 + i % 10, provinces[(i // 10) % 6]
        base = np.full(k, 1.0 / k)
        base[0] = np.clip(0.2 + trend * (year - 2014.5) + (province_effect if province == "B" else 0), 0.02, 0.9)
        base[1:] = (1 - base[0]) / (k - 1)
        doc = rng.dirichlet(base * 30)
        for p in range(paragraphs):
            unit = rng.dirichlet(doc * 40 + 0.01)
            alphas.append(rng.multinomial(50, unit) + 0.1)
            rows.append({"doc_id": f"d{i}", "position": p + 1, "year": year, "province": province})
    alpha = np.array(alphas, dtype=float)
    return types.SimpleNamespace(n_topics_=k, doc_topic_=alpha / alpha.sum(1, keepdims=True),
                                 doc_topic_concentration_=alpha, docvars_=pd.DataFrame(rows),
                                 labels_=[f"t{j}" for j in range(k)], topic_names_=None)


@pytest.fixture(scope="module")
def null_model():
    return synthetic(seed=1)


def test_coin_flip_is_significant_for_about_five_percent_of_topics(null_model):
    rng = np.random.default_rng(11)
    docs = null_model.docvars_["doc_id"].unique()
    p_values = []
    for rep in range(20):
        coin = dict(zip(docs, rng.choice(["正", "反"], size=len(docs))))
        data = null_model.docvars_.assign(coin=null_model.docvars_["doc_id"].map(coin))
        p_values.append(topic_effects(null_model, "coin", data=data, n_draws=40, random_state=rep).table["p"])
    share = float((pd.concat(p_values) < 0.05).mean())
    assert 0.01 <= share <= 0.11, share


def test_planted_trend_is_recovered_with_the_right_sign():
    m = synthetic(trend=0.02, seed=2)
    fx = topic_effects(m, "year + province", n_draws=100)
    year = fx.table.query("covariate == 'year'").set_index("topic")
    assert year.loc[0, "estimate"] == pytest.approx(0.02, abs=0.007) and year.loc[0, "p"] < 0.001
    assert year.loc[0, "ci_low"] > 0 and (year.loc[1:, "estimate"] < 0).all()
    smooth = topic_effects(m, "s(year, df=3)", n_draws=50)
    curve = smooth.expected.query("topic == 0 and covariate == 'year'")
    assert curve["estimate"].iloc[-1] > curve["estimate"].iloc[0] + 0.05
    assert curve["value"].tolist() == list(range(2010, 2020))
    saturated = topic_effects(m, "C(year)", n_draws=10).expected.query("topic == 0")["estimate"].to_numpy()
    means = pd.Series(m.doc_topic_[:, 0]).groupby(m.docvars_["year"].to_numpy()).mean().to_numpy()
    np.testing.assert_allclose(saturated, means, atol=1e-6)  # one dummy per year gives the yearly means


def test_fixed_effects_and_several_covariates():
    m = synthetic(province_effect=0.2, seed=3)
    fx = topic_effects(m, "s(year) + province", n_draws=60)
    assert list(fx.table.columns) == ["topic", "label", "covariate", "level", "reference", "estimate", "ci_low",
                                      "ci_high", "p"]
    b = fx.table.query("topic == 0 and covariate == 'province' and level == 'B'").iloc[0]
    assert b["reference"] == "A" and b["estimate"] > 0.1 and b["p"] < 0.01
    assert set(fx.table.query("covariate == 'province'")["level"]) == set("BCDEF")
    assert fx.settings["n_docs"] == 120 and "cluster-robust" in fx.settings["model"]


@pytest.mark.parametrize("formula", ["year", "s(year) + province", "C(year)"])
def test_intervals_hold_estimates_and_expected_shares_stay_in_0_1(null_model, formula):
    fx = topic_effects(null_model, formula, n_draws=40)
    for table in (fx.table, fx.expected):
        assert ((table["ci_low"] <= table["estimate"]) & (table["estimate"] <= table["ci_high"])).all()
    assert fx.expected[["estimate", "ci_low", "ci_high"]].stack().between(0, 1).all()


def test_missing_covariate_values_are_left_out_with_a_count(null_model):
    dv = null_model.docvars_.assign(year=null_model.docvars_["year"].astype("Int64"))
    dv.loc[dv["doc_id"].isin(["d0", "d1", "d2"]), "year"] = pd.NA
    with pytest.warns(ZhiliWarning, match="3 of 120 documents have no year; left out of topic effects"):
        fx = topic_effects(null_model, "s(year)", data=dv, n_draws=10)
    assert fx.settings["units_left_out"] == 6


@pytest.mark.parametrize("formula, message", [
    ("", "empty"), ("s(year", "cannot read"), ("year + year", "twice"), ("s(year, df=0)", "df"),
])
def test_bad_formulas_are_E142(formula, message):
    with pytest.raises(ZhiliError, match=f"E142.*{message}"):
        parse_formula(formula)


def test_unknown_or_constant_covariates(null_model):
    with pytest.raises(ZhiliError, match="E143.*'county'.*available: year, province"):
        topic_effects(null_model, "county", n_draws=5)
    data = null_model.docvars_.assign(one="甲")
    with pytest.raises(ZhiliError, match="E142.*one value"):
        topic_effects(null_model, "one", data=data, n_draws=5)


def _units(n_docs=60, seed=0, **columns):
    rng = np.random.default_rng(seed)
    share = rng.uniform(0.2, 0.8, n_docs)
    alpha = np.column_stack([share, 1 - share]) * 50
    docvars = pd.DataFrame({"doc_id": [f"d{i}" for i in range(n_docs)], **columns})
    return types.SimpleNamespace(n_topics_=2, doc_topic_=alpha / 50, doc_topic_concentration_=alpha,
                                 docvars_=docvars, labels_=["a", "b"], topic_names_=None)


@pytest.mark.parametrize("formula, columns", [
    ("year + year2", lambda y: {"year": y, "year2": y}),
    ("gdp + score", lambda y: {"gdp": y * 1.5, "score": 3 * y + 7}),
    ("city + region", lambda y: {"city": [f"c{v % 6}" for v in y], "region": [f"r{v % 6 // 3}" for v in y]}),
])
def test_collinear_covariates_are_E142_not_halved_effects_regression(formula, columns):
    years = np.repeat(np.arange(2010, 2020), 6)
    m = _units(**columns(years))
    with pytest.raises(ZhiliError, match=r"E142.*collinear"):
        topic_effects(m, formula, n_draws=10)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e308])
def test_non_finite_or_extreme_covariate_is_left_out_or_E142_not_a_linalg_traceback_regression(bad):
    gdp = np.linspace(1, 100, 60)
    gdp[3] = bad
    m = _units(gdp=gdp)
    try:
        fx = topic_effects(m, "gdp", n_draws=10)
    except ZhiliError as exc:
        assert "E142" in str(exc)
    else:
        assert fx.settings["units_left_out"] == 1 and np.isfinite(fx.table["estimate"]).all()


def test_smooth_term_on_a_numeric_variable_that_is_not_a_year_regression():
    m = _units(gdp=np.linspace(1, 100, 60))
    fx = topic_effects(m, "s(gdp, df=3)", n_draws=10)
    assert set(fx.table["covariate"]) == {"gdp"}
    m = _units(gdp=[str(v) for v in np.linspace(1, 100, 60)])  # numbers written as text
    assert len(topic_effects(m, "s(gdp)", n_draws=10).table)
    m = _units(gdp=["十"] + [str(v) for v in range(59)])
    with pytest.raises(ZhiliError, match=r"E142.*s\(gdp\) needs numbers"):
        topic_effects(m, "s(gdp)", n_draws=10)
