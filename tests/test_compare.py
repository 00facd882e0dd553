"""Topic prevalence by group, year trends, before/after and the regression interface,
on simulated models whose true group means are known."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from zhili.compare import (ONE_DOCUMENT, TOO_FEW, before_after, compare_topics, group_labels, numeric_years, term_trends,
                           topic_regression, topic_trends, wilson_interval)
from zhili.dtm import DTM
from zhili.errors import ZhiliError, ZhiliWarning

CITY_MEANS = {"南通市": [0.6, 0.3, 0.1], "苏州市": [0.2, 0.5, 0.3], "无锡市": [0.1, 0.2, 0.7]}


def fake_model(docvars: pd.DataFrame, alpha: np.ndarray) -> types.SimpleNamespace:
    """A fitted model as compare.py expects it (the topic helper's contract)."""
    return types.SimpleNamespace(
        n_topics_=alpha.shape[1], doc_topic_=alpha / alpha.sum(axis=1, keepdims=True), doc_topic_concentration_=alpha,
        docvars_=docvars.reset_index(drop=True), labels_=[f"词{k}" for k in range(alpha.shape[1])], topic_names_=None)


def simulate(docs_per_city: int = 25, paragraphs: int = 4, tokens_per_unit: float = 60, seed: int = 1,
             means: dict = CITY_MEANS) -> types.SimpleNamespace:
    """Each document draws its shares around its city's mean; its paragraphs vary around the
    document; each unit's posterior is a Dirichlet as if fitted on ``tokens_per_unit`` tokens."""
    rng = np.random.default_rng(seed)
    rows, alphas = [], []
    for city, mean in means.items():
        for i in range(docs_per_city):
            doc_theta = rng.dirichlet(np.array(mean) * 20)
            for p in range(1, paragraphs + 1):
                unit_theta = rng.dirichlet(doc_theta * 50 + 0.01)
                alphas.append(rng.multinomial(int(tokens_per_unit), unit_theta) + 0.1)
                rows.append({"doc_id": f"{city}-{i}", "position": p, "city": city, "year": 2010 + i % 10})
    return fake_model(pd.DataFrame(rows), np.array(alphas, dtype=float))


@pytest.fixture(scope="module")
def model() -> types.SimpleNamespace:
    return simulate()


def test_intervals_contain_the_true_group_means(model):
    table = compare_topics(model, "city", n_draws=200)
    truth = np.array([CITY_MEANS[g][t] for g, t in zip(table["group"], table["topic"])])
    inside = (table["ci_low"] <= truth) & (truth <= table["ci_high"])
    assert inside.mean() >= 8 / 9
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()


def test_output_columns_counts_and_labels(model):
    table = compare_topics(model, "city", n_draws=20)
    assert list(table.columns) == ["by", "group", "topic", "label", "mean", "ci_low", "ci_high", "n_docs", "n_units", "note"]
    assert set(table["by"]) == {"city"} and table["group"].tolist()[:3] == ["南通市"] * 3  # groups in code-point order
    assert (table["n_docs"] == 25).all() and (table["n_units"] == 100).all()
    assert table["label"].tolist()[:3] == ["词0", "词1", "词2"]
    assert np.allclose(table.groupby("group")["mean"].sum(), 1.0)


def test_topic_names_replace_labels(model):
    named = types.SimpleNamespace(**{**vars(model), "topic_names_": ["网格治理", "经济发展", "法治建设"]})
    assert compare_topics(named, "city", n_draws=5)["label"].tolist()[:3] == ["网格治理", "经济发展", "法治建设"]


def test_same_seed_same_intervals(model):
    a = compare_topics(model, "city", n_draws=30, random_state=7)
    b = compare_topics(model, "city", n_draws=30, random_state=7)
    pd.testing.assert_frame_equal(a, b)


def test_bootstrap_resamples_documents_not_paragraphs():
    """Paragraphs that copy their document add no information: the interval must be as
    wide as with one unit per document, not half as wide."""
    one = simulate(docs_per_city=30, paragraphs=1, tokens_per_unit=2000, seed=3)
    dv = one.docvars_.loc[one.docvars_.index.repeat(4)].reset_index(drop=True)
    four = fake_model(dv, np.repeat(one.doc_topic_concentration_, 4, axis=0))
    width = lambda m: (lambda t: (t["ci_high"] - t["ci_low"]).mean())(compare_topics(m, "city", n_draws=200))
    assert width(four) == pytest.approx(width(one), rel=0.2)


def test_one_document_group_resamples_its_paragraphs():
    m = simulate(docs_per_city=5)
    dv = m.docvars_.copy()
    dv.loc[dv["doc_id"] == "无锡市-0", "city"] = "常州市"
    table = compare_topics(fake_model(dv, m.doc_topic_concentration_), "city", n_draws=20)
    lone = table[table["group"] == "常州市"]
    assert len(lone) == 3 and lone["mean"].notna().all() and (lone["n_docs"] == 1).all()
    assert (lone["ci_low"] <= lone["mean"]).all() and (lone["mean"] <= lone["ci_high"]).all()
    assert (lone["note"] == ONE_DOCUMENT).all()
    assert (table.loc[table["group"] != "常州市", "note"] == "").all()


def test_one_unit_group_has_mean_nan_interval_and_note():
    m = simulate(docs_per_city=5)
    dv = m.docvars_.copy()
    dv.loc[(dv["doc_id"] == "无锡市-0") & (dv["position"] == 1), "city"] = "常州市"
    table = compare_topics(fake_model(dv, m.doc_topic_concentration_), "city", n_draws=20)
    lone = table[table["group"] == "常州市"]
    assert lone["mean"].notna().all() and lone["ci_low"].isna().all() and lone["ci_high"].isna().all()
    assert (lone["note"] == TOO_FEW).all()


def test_combination_of_variables(model):
    table = compare_topics(model, ["city", "year"], n_draws=5)
    assert set(table["by"]) == {"city×year"}
    assert "南通市|2010" in set(table["group"])
    name, labels = group_labels(model.docvars_, ("city", "year"))
    assert name == "city×year" and labels.iloc[0] == "南通市|2010"


@pytest.mark.parametrize("by", ["county", ["city", "county"]])
def test_unknown_variable_is_E012(model, by):
    with pytest.raises(ZhiliError) as err:
        compare_topics(model, by, n_draws=5)
    assert err.value.code == "E012" and "county" in str(err.value)


@pytest.mark.parametrize("empty", [None, "", "  ", np.nan, "nan", pd.NA])
def test_mostly_empty_variable_is_counted_and_left_out_not_a_crash(model, empty):
    dv = model.docvars_.copy()
    dv["district"] = pd.Series(np.where(dv["doc_id"].isin(dv["doc_id"].unique()[:10]), "崇川区", None), dtype=object)
    dv.loc[dv["district"].isna(), "district"] = empty
    with pytest.warns(ZhiliWarning, match=r"\[W140\] 65 of 75 documents have no district; left out of topic prevalence"):
        table = compare_topics(fake_model(dv, model.doc_topic_concentration_), "district", n_draws=5)
    assert set(table["group"]) == {"崇川区"} and table.attrs["documents_left_out"] == 65


@pytest.mark.parametrize("empty", [None, "", np.nan, pd.NA])
def test_all_empty_variable_is_E050_saying_so(model, empty):
    dv = model.docvars_.assign(district=pd.Series([empty] * len(model.docvars_), dtype=object))
    with pytest.raises(ZhiliError) as err:
        compare_topics(fake_model(dv, model.doc_topic_concentration_), "district", n_draws=5)
    assert err.value.code == "E050" and "'district'" in str(err.value) and "75 of 75" in str(err.value)


def test_some_empty_values_are_left_out_with_a_warning(model):
    dv = model.docvars_.copy()
    dv.loc[dv["doc_id"].isin(["南通市-0", "南通市-1"]), "city"] = None
    with pytest.warns(ZhiliWarning, match="2 of 75 documents"):
        table = compare_topics(fake_model(dv, model.doc_topic_concentration_), "city", n_draws=5)
    assert table.loc[table["group"] == "南通市", "n_docs"].iloc[0] == 23
    assert table.attrs["documents_left_out"] == 2


def test_topic_trends_parses_years_and_orders_them():
    m = simulate(docs_per_city=10, paragraphs=2)
    dv = m.docvars_.assign(year=m.docvars_["year"].map(lambda y: f"{y}年"))
    table = topic_trends(fake_model(dv, m.doc_topic_concentration_), n_draws=10)
    assert table["group"].drop_duplicates().tolist() == list(range(2010, 2020))
    assert set(table["by"]) == {"year"}


@pytest.mark.parametrize("bad", ["明年", "20199", 3.5])
def test_year_that_is_not_a_number_is_E017(bad):
    dv = pd.DataFrame({"doc_id": ["a", "b"], "year": [2019, bad]}, dtype=object)
    with pytest.raises(ZhiliError) as err:
        numeric_years(dv, "year")
    assert err.value.code == "E017" and "'year'" in str(err.value) and "'b'" in str(err.value)


def trend_model(slope: float = 0.02, seed: int = 5) -> types.SimpleNamespace:
    """Topic 0's share rises by ``slope`` a year from 0.2 in 2000; one unit per document."""
    rng = np.random.default_rng(seed)
    years = np.repeat(np.arange(2000, 2016), 6)
    share0 = 0.2 + slope * (years - 2000)
    theta = np.column_stack([share0, (1 - share0) / 2, (1 - share0) / 2])
    alpha = np.array([rng.multinomial(400, t) + 0.1 for t in theta], dtype=float)
    city = np.where(np.arange(len(years)) % 2 == 0, "南通市", "苏州市")
    dv = pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(years))], "year": years, "city": city})
    return fake_model(dv, alpha)


def test_linear_trend_interval_contains_the_true_slope():
    fit = topic_regression(trend_model(), year="year", n_draws=100)
    year0 = fit.coefficients.query("term == 'year' and topic == 0").iloc[0]
    assert year0["ci_low"] <= 0.02 <= year0["ci_high"] and year0["ci_low"] > 0
    assert list(fit.coefficients.columns) == ["term", "topic", "label", "estimate", "se", "ci_low", "ci_high"]
    assert fit.fitted["year"].drop_duplicates().tolist() == list(range(2000, 2016))
    assert fit.fitted["year"].map(type).eq(int).all()


@pytest.mark.parametrize("spline_df", [1, 3, 5])
def test_spline_fit_follows_the_trend(spline_df):
    fit = topic_regression(trend_model(), year="year", spline_df=spline_df, n_draws=50)
    assert fit.coefficients["term"].tolist().count("year_bs1") == 3
    first, last = fit.fitted.query("topic == 0 and year in (2000, 2015)")["mean"]
    assert first == pytest.approx(0.2, abs=0.05) and last == pytest.approx(0.5, abs=0.05)
    assert (fit.fitted["ci_low"] <= fit.fitted["mean"]).all()


def test_contrasts_give_group_coefficients_and_fits():
    fit = topic_regression(trend_model(), year="year", by="city", n_draws=50)
    contrast = fit.coefficients.query("term == 'city[苏州市]'")
    assert len(contrast) == 3
    assert ((contrast["ci_low"] <= 0) & (0 <= contrast["ci_high"])).all()  # no true difference
    assert set(fit.fitted.columns) >= {"year", "city", "topic", "mean", "ci_low", "ci_high", "note"}
    only = topic_regression(trend_model(), year=None, by="city", n_draws=20)
    assert only.fitted["city"].drop_duplicates().tolist() == ["南通市", "苏州市"]


def test_topic_regression_groups_by_by_and_contrasts_is_a_deprecated_alias():
    new = topic_regression(trend_model(), year=None, by="city", n_draws=20)
    with pytest.warns(DeprecationWarning, match="contrasts= is deprecated; use by="):
        old = topic_regression(trend_model(), year=None, contrasts="city", n_draws=20)
    pd.testing.assert_frame_equal(old.coefficients, new.coefficients)
    with pytest.raises(ValueError, match="not both"), pytest.warns(DeprecationWarning):
        topic_regression(trend_model(), year=None, by="year", contrasts="city", n_draws=20)


def test_contrast_group_with_one_document_has_no_interval():
    m = trend_model()
    dv = m.docvars_.assign(city=np.where(m.docvars_["doc_id"] == "d0", "常州市", m.docvars_["city"]))
    fit = topic_regression(fake_model(dv, m.doc_topic_concentration_), year=None, by="city", n_draws=20)
    lone = fit.fitted[fit.fitted["city"] == "常州市"]
    assert lone["mean"].notna().all() and lone["ci_low"].isna().all() and (lone["note"] == TOO_FEW).all()
    assert fit.coefficients.query("term == 'city[常州市]'")["ci_high"].isna().all()


def test_before_after_difference_and_interval():
    table = before_after(trend_model(), cut=2008, n_draws=200)
    row = table.iloc[0]
    assert row["mean_before"] == pytest.approx(0.2 + 0.02 * 3.5, abs=0.02)
    assert row["difference"] == pytest.approx(0.16, abs=0.02) and row["ci_low"] <= 0.16 <= row["ci_high"]
    assert row["n_docs_before"] == 48 and row["n_docs_after"] == 48
    with pytest.raises(ZhiliError, match="cut=1990"):
        before_after(trend_model(), cut=1990, n_draws=5)


def term_dtm() -> DTM:
    m = sp.csr_matrix(np.array([[5, 0, 95], [1, 2, 97], [0, 0, 50], [10, 0, 40]]))
    dv = pd.DataFrame({"doc_id": list("abcd"), "year": pd.array([2019, 2019, 2020, 2021], dtype="Int64")})
    return DTM(m, np.array(["网格化", "疫情", "发展"], dtype=object), dv)


def test_term_trends_counts_rates_and_wilson():
    table = term_trends(term_dtm(), ["网格化", "疫情"], per=1000)
    assert list(table.columns) == ["year", "term", "count", "total", "rate", "ci_low", "ci_high"]
    first = table.iloc[0]
    assert (first["year"], first["term"], first["count"], first["total"]) == (2019, "网格化", 6, 200)
    assert first["rate"] == pytest.approx(30.0)
    low, high = wilson_interval(np.array(6), np.array(200))
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((low * 1000, high * 1000))
    assert first["ci_low"] < 30 < first["ci_high"]


def test_term_trends_warns_about_unknown_terms():
    with pytest.warns(ZhiliWarning, match="智慧治理"):
        table = term_trends(term_dtm(), ["智慧治理"])
    assert (table["count"] == 0).all()


def test_term_trends_bad_year_is_E017():
    d = term_dtm()
    d.docvars = d.docvars.assign(year=["2019", "去年", "2020", "2021"])
    with pytest.raises(ZhiliError, match="去年"):
        term_trends(d, ["网格化"])


def test_wilson_matches_the_textbook_value():
    low, high = wilson_interval(np.array([0, 10]), np.array([10, 10]))
    assert low[0] == 0 and high[1] == pytest.approx(1)
    assert high[0] == pytest.approx(0.2775, abs=1e-4)


def test_no_warnings_on_clean_input(model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare_topics(model, "city", n_draws=5)


def test_national_reports_poverty_theme_peaks_2016_2020(shared_data):
    """Issue figure: the topic that carries 脱贫 peaks within 2016-2020 (national reports, by year).

    A guided theme anchors the topic; unguided NMF folds 脱贫 into a rural-income topic."""
    import zhili
    from zhili.topics import TopicModel

    c = zhili.corpus(shared_data("gov_work_reports") / "docs.jsonl.gz")
    national = c.subset(c.docs["level"] == "national").reshape("paragraph")
    d = zhili.dtm_trim(zhili.dtm(zhili.tokens(national, cache=False)), min_df=5, max_df=0.95)
    model = TopicModel(n_topics=15, themes={"脱贫攻坚": ["脱贫", "脱贫攻坚", "扶贫", "贫困人口", "贫困地区"]}).fit(d)
    carrier = int(np.argmax(model.topic_term_[:, list(model.vocabulary_).index("脱贫")] * model.topic_sizes_))
    table = compare_topics(model, "year", n_draws=100)
    peak = table[table["topic"] == carrier].sort_values("mean").iloc[-1]
    assert carrier == 0 and 2016 <= int(peak["group"]) <= 2020
    assert peak["ci_low"] < peak["mean"] < peak["ci_high"]


# --- every interval holds its estimate (issue 11 §1) ---------------------------------------

def holds(table: pd.DataFrame, point: str = "mean") -> bool:
    rows = table.dropna(subset=["ci_low", "ci_high"])
    return bool(len(rows)) and bool(((rows["ci_low"] <= rows[point]) & (rows[point] <= rows["ci_high"])).all())


def short_unit_model() -> types.SimpleNamespace:
    """Fitted by a real TopicModel on very short units (where shares of exactly 1.0 occur and
    draws pulled toward 1/K used to leave the mean outside its interval)."""
    from zhili.corpus import corpus_from_texts
    from zhili.dtm import dtm
    from zhili.tokens import tokens
    from zhili.topics import TopicModel

    rng = np.random.default_rng(3)
    words = [["网格员", "网格", "巡查"], ["调解", "矛盾纠纷", "信访"], ["养老", "托育", "医疗"]]
    texts, years, cities = [], [], []
    for i in range(150):
        own = words[i % 3] if rng.random() < 0.8 else words[rng.integers(3)]
        texts.append(" ".join(rng.choice(own, size=int(rng.integers(2, 7)))))
        years.append(2015 + (i // 3) % 8)
        cities.append(f"城市{(i // 7) % 5}")
    c = corpus_from_texts(texts, docvars={"year": years, "city": cities})
    return TopicModel(n_topics=3, min_tokens=1).fit(dtm(tokens(c, cache=False)))


@pytest.fixture(scope="module")
def short_model():
    return short_unit_model()


@pytest.mark.parametrize("make", ["simulated", "fitted"])
def test_every_comparison_table_holds_its_estimate(model, short_model, make):
    m = model if make == "simulated" else short_model
    tables = {
        "compare_topics": compare_topics(m, "city", n_draws=100),
        "compare_topics by year": compare_topics(m, "year", n_draws=100),
        "topic_trends": topic_trends(m, by="year", n_draws=100),
    }
    for name, table in tables.items():
        assert holds(table), name
    assert holds(before_after(m, by="year", cut=2015 if make == "simulated" else 2018, n_draws=100), "difference")
    fit = topic_regression(m, year="year", spline_df=3, n_draws=50)
    assert holds(fit.coefficients, "estimate") and holds(fit.fitted)
    assert holds(topic_regression(m, year=None, by="city", n_draws=50).coefficients, "estimate")


def test_term_trends_interval_holds_the_rate_at_zero_and_one():
    m = sp.csr_matrix(np.array([[0, 7], [3, 0], [0, 0]]))
    d = DTM(m, np.array(["网格化", "疫情"], dtype=object),
            pd.DataFrame({"doc_id": list("abc"), "year": pd.array([2019, 2020, 2021], dtype="Int64")}))
    table = term_trends(d, ["网格化", "疫情"], by="year")
    assert holds(table, "rate")


def test_draws_are_made_once_per_fit_and_reused_across_by_variables(short_model):
    from zhili.compare import posterior_draws

    compare_topics(short_model, "city", n_draws=50)
    first = short_model._posterior_draws
    compare_topics(short_model, "year", n_draws=50)
    topic_trends(short_model, n_draws=50)
    assert short_model._posterior_draws is first and posterior_draws(short_model, 50, 42) is first
    assert posterior_draws(short_model, 50, 7) is not first  # another seed, other draws


def test_time_is_a_deprecated_alias_of_by(model):
    with pytest.warns(DeprecationWarning, match="time="):
        old = topic_trends(model, time="year", n_draws=10)
    pd.testing.assert_frame_equal(old, topic_trends(model, by="year", n_draws=10))
    with pytest.warns(DeprecationWarning):
        assert before_after(model, time="year", cut=2015, n_draws=5)["time"].iloc[0] == "year"
    with pytest.warns(DeprecationWarning):
        term_trends(term_dtm(), ["网格化"], time="year")


def test_typed_and_float_years_are_read_alike(model):
    as_float = model.docvars_.assign(year=model.docvars_["year"].astype(float))
    as_int64 = model.docvars_.assign(year=model.docvars_["year"].astype("Int64"))
    as_text = model.docvars_.assign(year=model.docvars_["year"].map(lambda y: f"{y}年"))
    tables = [topic_trends(fake_model(dv, model.doc_topic_concentration_), n_draws=10)
              for dv in (as_float, as_int64, as_text)]
    for t in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], t)


def test_partly_missing_years_are_left_out_of_trends_with_a_count(model):
    dv = model.docvars_.assign(year=model.docvars_["year"].astype("Int64"))
    dv.loc[dv["doc_id"].isin(["南通市-0", "苏州市-3"]), "year"] = pd.NA
    with pytest.warns(ZhiliWarning, match="2 of 75 documents have no year; left out of topic trends"):
        table = topic_trends(fake_model(dv, model.doc_topic_concentration_), n_draws=10)
    assert "nan" not in set(map(str, table["group"])) and table["group"].map(type).eq(int).all()


def test_units_without_terms_are_left_out_of_comparisons_regression():
    """Headings and stopword-only units got 1/K shares and pulled every group's mean toward 1/K."""
    from zhili.topics import TopicModel

    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(40)])
    rows = []
    for i in range(60):
        topic = i % 2
        counts = np.zeros(40)
        if i % 5 != 4:  # every fifth unit is empty (a heading)
            counts[rng.choice(np.arange(20) + 20 * topic, 15)] += 1
        rows.append(counts)
    docvars = pd.DataFrame({"doc_id": [f"d{i // 3}" for i in range(60)], "group": ["G0"] * 30 + ["G1"] * 30,
                            "year": np.repeat(np.arange(2010, 2020), 6)})
    d = DTM(sp.csr_matrix(np.array(rows)), vocab, docvars)
    m = TopicModel(n_topics=2, min_tokens=1).fit(d)
    assert (m.doc_lengths_ == 0).sum() == 12
    with pytest.warns(ZhiliWarning, match=r"W141\] 12 of 60 units have no term"):
        table = compare_topics(m, by="group")
    full = m.doc_topic_[m.doc_lengths_ > 0]
    groups = docvars["group"].to_numpy()[m.doc_lengths_ > 0]
    expected = [full[groups == g].mean(axis=0) for g in ("G0", "G1")]
    assert np.allclose(table["mean"].to_numpy(), np.concatenate(expected))
    assert table["n_units"].tolist() == [24] * 4
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()
    with pytest.warns(ZhiliWarning, match="W141"):
        assert topic_trends(m, by="year")["n_units"].sum() == 48 * 2
