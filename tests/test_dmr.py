"""TopicModel(method="dmr"): tomotopy's (g-)DMR with covariates in the fit; the same fitted
attributes as the other methods, deterministic by seed, effects tables unchanged."""

from __future__ import annotations

import builtins
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from zhili.dtm import DTM
from zhili.errors import ZhiliError
from zhili.topics import TopicModel, match_topics

tomotopy = pytest.importorskip("tomotopy")

from zhili.effects import topic_effects  # noqa: E402


def corpus(trend: float = 0.02, seed: int = 0, n_docs: int = 80, k: int = 4) -> tuple[DTM, np.ndarray]:
    """Documents across 2010-2019 in 4 provinces, 2 paragraphs of 50 tokens; topic 0's share
    rises by ``trend`` a year; each topic has its own 50 words."""
    rng = np.random.default_rng(seed)
    v = 50 * k
    beta = np.full((k, v), 0.02)
    for t in range(k):
        beta[t, t * 50:(t + 1) * 50] += rng.gamma(1.0, 1.0, 50)
    beta /= beta.sum(axis=1, keepdims=True)
    rows, counts = [], []
    for i in range(n_docs):
        year, province = 2010 + i % 10, "ABCD"[(i // 10) % 4]
        base = np.full(k, 1.0 / k)
        base[0] = 0.25 + trend * (year - 2014.5)
        base[1:] = (1 - base[0]) / (k - 1)
        doc = rng.dirichlet(base * 30)
        for p in range(2):
            z = rng.multinomial(50, rng.dirichlet(doc * 40 + 0.01))
            counts.append(sum(rng.multinomial(z[t], beta[t]) for t in range(k)))
            rows.append({"doc_id": f"d{i}", "position": p + 1, "year": year, "province": province})
    vocab = np.array([f"词{j}" for j in range(v)], dtype=object)
    return DTM(sp.csr_matrix(np.array(counts, dtype=np.float64)), vocab, pd.DataFrame(rows), "count", {}), beta


@pytest.fixture(scope="module")
def fitted():
    d, beta = corpus()
    return d, beta, TopicModel(4, method="dmr", covariates="s(year) + province", random_state=3).fit(d)


def test_fitted_attributes_match_the_other_methods(fitted):
    d, _, m = fitted
    nmf = TopicModel(4, random_state=3).fit(d)
    for name in ("doc_topic_", "doc_topic_concentration_", "topic_term_", "topic_sizes_", "term_frequency_",
                 "vocabulary_", "labels_", "docvars_", "n_iter_", "converged_", "settings_"):
        assert hasattr(m, name), name
        assert np.shape(getattr(m, name)) == np.shape(getattr(nmf, name)) or name == "settings_"
    assert m.method_ == "dmr" and m.settings_["covariates"]["numeric"] == [{"var": "year", "degree": 4}]
    np.testing.assert_allclose(m.doc_topic_.sum(axis=1), 1)
    np.testing.assert_allclose(m.topic_term_.sum(axis=1), 1)
    np.testing.assert_allclose(m.doc_topic_, m.doc_topic_concentration_ / m.doc_topic_concentration_.sum(1, keepdims=True))
    lengths = np.asarray(d.matrix.sum(axis=1)).ravel()
    prior = m.doc_topic_concentration_.sum(axis=1) - lengths
    np.testing.assert_allclose(prior, 0.1 * 4)  # counts + one shared prior, not the unit's DMR prior
    assert m._backend["prior_total"] == pytest.approx(0.4)
    dmr_prior = m._backend["dmr_prior"]
    assert dmr_prior.shape == (d.shape[0], 4) and (dmr_prior > 0).all()
    units = pd.Series(dmr_prior.sum(axis=1).round(2)).groupby(d.docvars["year"].astype(str) + d.docvars["province"]).nunique()
    assert (units == 1).all()  # the DMR prior depends on the covariates only
    assert np.abs(m.transform(d) - m.doc_topic_).mean() < 0.05  # folded in again: a new Gibbs sample, same prior
    assert (np.diff(m.topic_sizes_) <= 1e-12).all()  # largest first, as NMF
    assert m.topics_table().shape[0] == 4 and m.transform(d).shape == (d.shape[0], 4)


def test_same_seed_same_tables_and_refit_resets(fitted):
    d, _, m = fitted
    again = TopicModel(4, method="dmr", covariates="s(year) + province", random_state=3).fit(d)
    pd.testing.assert_frame_equal(m.topics_table(), again.topics_table())
    pd.testing.assert_frame_equal(m.doc_topics_table(), again.doc_topics_table())
    np.testing.assert_array_equal(m.transform(d), again.transform(d))
    other = TopicModel(4, method="dmr", covariates="province", random_state=3).fit(d)
    assert other.settings_["covariates"]["numeric"] == [] and other._backend["model"] == "DMRModel"


def test_topics_are_recovered(fitted):
    _, beta, m = fitted
    assert match_topics(beta, m.topic_term_)[1].min() > 0.5  # 50 words a topic, 8,000 tokens: noisy


def test_effects_table_and_planted_trend_sign(fitted):
    d, beta, m = fitted
    fx = topic_effects(m, "year + province", n_draws=60)
    assert {"topic", "covariate", "level", "estimate", "ci_low", "ci_high", "p"} <= set(fx.table.columns)
    for table in (fx.table, fx.expected):
        assert ((table["ci_low"] <= table["estimate"]) & (table["estimate"] <= table["ci_high"])).all()
    first = int(match_topics(beta, m.topic_term_)[0][0])
    year = fx.table.query("covariate == 'year'").set_index("topic")
    assert year.loc[first, "estimate"] > 0.005 and year.loc[first, "p"] < 0.01
    assert (year.drop(index=first)["estimate"] < 0.005).all()


def test_coin_flip_in_the_model_is_significant_for_about_five_percent_of_topics():
    """The coin is a covariate of the fit (one refit per flip). With the unit's own DMR prior in
    the shares, 12 of these 64 p-values were below 0.05 (0.19); with the counts + one shared
    prior, 5 (0.08)."""
    d, _ = corpus(trend=0.0, seed=5)
    docs = d.docvars["doc_id"].unique()
    rng = np.random.default_rng(11)
    p_values = []
    for rep in range(16):
        coin = dict(zip(docs, rng.choice(["正", "反"], size=len(docs))))
        dc = replace(d, docvars=d.docvars.assign(coin=d.docvars["doc_id"].map(coin)))
        m = TopicModel(4, method="dmr", covariates="coin", random_state=rep, max_iter=100).fit(dc)
        fx = topic_effects(m, "coin", n_draws=40, random_state=rep)
        for table in (fx.table, fx.expected):
            assert ((table["ci_low"] <= table["estimate"]) & (table["estimate"] <= table["ci_high"])).all()
        p_values.append(fx.table["p"])
    share = float((pd.concat(p_values) < 0.05).mean())
    assert 0.0 < share <= 0.12, share


def test_bad_inputs_are_coded_errors(fitted):
    d, _, _ = fitted
    with pytest.raises(ZhiliError, match="E146.*needs covariates"):
        TopicModel(4, method="dmr").fit(d)
    with pytest.raises(ZhiliError, match="E146.*for method='dmr'"):
        TopicModel(4, method="nmf", covariates="year").fit(d)
    with pytest.raises(ZhiliError, match="E143.*'county'"):
        TopicModel(4, method="dmr", covariates="county").fit(d)
    with pytest.raises(ZhiliError, match="E142.*cannot read"):
        TopicModel(4, method="dmr", covariates="s(year").fit(d)
    with pytest.raises(ZhiliError, match="E142.*one value"):
        TopicModel(4, method="dmr", covariates="one").fit(replace(d, docvars=d.docvars.assign(one="甲")))
    with pytest.raises(ZhiliError, match="E143"):  # new units need the covariates too
        TopicModel(4, method="dmr", covariates="year", max_iter=20).fit(d).transform(d.matrix)


def test_without_tomotopy_E145_says_how_to_install(fitted, monkeypatch):
    d, _, _ = fitted
    real_import = builtins.__import__

    def no_tomotopy(name, *args, **kwargs):
        if name == "tomotopy":
            raise ImportError("No module named 'tomotopy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tomotopy)
    with pytest.raises(ImportError, match=r'E145.*pip install "zhili\[dmr\]"'):
        TopicModel(4, method="dmr", covariates="year").fit(d)


def test_units_without_words_or_covariate_values(fitted):
    d, _, _ = fitted
    X = sp.lil_matrix(d.matrix)
    X[0, :] = 0  # an empty unit gets its prior alone
    dv = d.docvars.assign(year=d.docvars["year"].astype("Int64"))
    dv.loc[1, "year"] = pd.NA
    with pytest.warns(UserWarning, match="1 without year"):
        m = TopicModel(4, method="dmr", covariates="year", max_iter=30).fit(replace(d, matrix=X.tocsr(), docvars=dv))
    assert np.isfinite(m.doc_topic_).all() and m.doc_topic_concentration_[0].sum() > 0


def test_numeric_covariate_that_is_not_a_year_regression():
    """DMR read every numeric covariate as a year: gdp = 1.0 was E017 (the twin of the s(gdp) fix in effects)."""
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.poisson(1.0, (60, 30)).astype(float))
    docvars = pd.DataFrame({"doc_id": [f"d{i}" for i in range(60)], "gdp": np.linspace(1, 50, 60)})
    m = TopicModel(n_topics=3, method="dmr", covariates="gdp").fit(DTM(X, np.array([f"w{i}" for i in range(30)]), docvars))
    assert m.doc_topic_.shape == (60, 3) and np.allclose(m.doc_topic_.sum(axis=1), 1)
