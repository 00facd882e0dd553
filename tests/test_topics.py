"""Topic models: planted topics are recovered, runs are reproducible, bad input is explained."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import normalized_mutual_info_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from zhili.corpus import corpus_from_texts
from zhili.dtm import dtm, dtm_trim, dtm_weight
from zhili.errors import ZhiliError
from zhili.tokens import tokens
from zhili.topics import KSearch, TopicModel, coherence_npmi, frex, match_topics, search_k

THEMES = {
    "网格化": ["网格员", "网格", "巡查", "网格化", "走访", "台账"],
    "矛盾化解": ["调解", "矛盾纠纷", "信访", "调解员", "化解", "诉求"],
    "养老": ["养老", "托育", "医疗", "老年人", "护理", "助餐"],
    "环境": ["污水", "河长", "排污", "水质", "治污", "垃圾"],
}
SHARED = ["工作", "群众", "社区", "服务"]


def planted_texts(n_per_theme: int = 15, seed: int = 0) -> tuple[list[str], list[int]]:
    """Short texts, each drawn mostly from one theme's words plus shared words."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, words in enumerate(THEMES.values()):
        for _ in range(n_per_theme):
            own = rng.choice(words, size=12)
            common = rng.choice(SHARED, size=4)
            texts.append(" ".join([*own, *common]))
            labels.append(label)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], [labels[i] for i in order]


@pytest.fixture(scope="module")
def planted():
    texts, labels = planted_texts()
    c = corpus_from_texts(texts, docvars={"city": [f"城市{i % 3}" for i in range(len(texts))]})
    return c, dtm(tokens(c, cache=False)), labels


@pytest.fixture(scope="module")
def fitted(planted):
    return TopicModel(n_topics=4).fit(planted[1])


def test_recovers_planted_topics_with_the_documented_attributes(planted, fitted):
    c, d, labels = planted
    m = fitted
    assert m.method_ == "nmf" and m.n_topics_ == 4
    assert normalized_mutual_info_score(labels, m.doc_topic_.argmax(axis=1)) > 0.95
    assert m.topic_term_.shape == (4, len(m.vocabulary_))
    np.testing.assert_allclose(m.topic_term_.sum(axis=1), 1)
    np.testing.assert_allclose(m.doc_topic_.sum(axis=1), 1)
    assert m.doc_topic_concentration_.shape == m.doc_topic_.shape and (m.doc_topic_concentration_ > 0).all()
    np.testing.assert_allclose(m.topic_sizes_.sum(), 1)
    assert m.docvars_["doc_id"].tolist() == c.docs["doc_id"].tolist()
    assert all(len(label.split("·")) == 3 for label in m.labels_)
    assert m.topic_names_ is None and m.settings_["random_state"] == 42
    themes_found = {next(i for i, w in enumerate(THEMES.values()) if t[0] in w) for t in m.top_terms(3)}
    assert themes_found == {0, 1, 2, 3}


def test_lda_method_has_the_same_contract(planted):
    m = TopicModel(n_topics=4, method="lda").fit(planted[1])
    assert m.method_ == "lda"
    np.testing.assert_allclose(m.doc_topic_.sum(axis=1), 1)
    np.testing.assert_allclose(m.topic_term_.sum(axis=1), 1)
    np.testing.assert_allclose(m.doc_topic_ , m.doc_topic_concentration_ / m.doc_topic_concentration_.sum(1, keepdims=True))
    assert normalized_mutual_info_score(planted[2], m.doc_topic_.argmax(axis=1)) > 0.8


def test_same_settings_give_byte_identical_tables(planted):
    a = TopicModel(n_topics=4).fit(planted[1]).topics_table().to_csv()
    b = TopicModel(n_topics=4).fit(planted[1]).topics_table().to_csv()
    assert a == b


def test_term_rankings_and_measures(fitted):
    for by in ("prob", "frex", "lift", "relevance"):
        terms = fitted.top_terms(n=5, by=by)
        assert len(terms) == 4 and all(len(t) == 5 for t in terms)
    assert fitted.top_terms(2, by="relevance", lam=1.0) == fitted.top_terms(2, by="prob")
    with pytest.raises(ZhiliError, match="E049"):
        fitted.top_terms(by="salience")
    assert frex(np.array([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6]])).argmax(axis=1).tolist() == [0, 2]
    order, sim = match_topics(fitted.topic_term_, fitted.topic_term_[::-1])
    assert order.tolist() == [3, 2, 1, 0] and np.allclose(sim, 1)


def test_tables_and_names(planted):
    m = TopicModel(n_topics=4).fit(planted[1])
    t = m.topics_table()
    assert list(t.columns) == ["topic", "name", "label", "share", "top_terms", "frex_terms"]
    assert t["name"].tolist() == m.labels_
    m.name_topics({0: "甲"})
    assert m.topic_names_[0] == "甲" and m.topic_names_[1] == m.labels_[1]
    m.name_topics(["一", "二", "三", "四"])
    assert m.topics_table()["name"].tolist() == ["一", "二", "三", "四"]
    assert set(m.topic_terms_table(n=5)["name"]) == {"一", "二", "三", "四"}
    with pytest.raises(ZhiliError, match=r"E046.*4 names, got 3"):
        m.name_topics(["一", "二", "三"])
    docs = m.doc_topics_table()
    assert list(docs.columns)[:2] == ["doc_id", "source"] and "position" not in docs.columns
    assert list(docs.columns)[-4:] == ["topic_0", "topic_1", "topic_2", "topic_3"] and "city" in docs.columns
    long = m.topic_terms_table(n=5)
    assert list(long.columns) == ["topic", "name", "rank", "term", "weight", "frex_rank", "lift", "term_share"]
    assert len(long) == 20 and long["frex_rank"].min() >= 1


def test_paragraph_units_keep_position_and_passages_stay_in_the_original_script():
    texts, _ = planted_texts(8, seed=3)
    trad = ["網格員 網格 巡查 網格化 走訪 台賬 社區", "調解 矛盾糾紛 信訪 調解員 化解 訴求"]
    c = corpus_from_texts(["\n".join(texts[:16] + trad), "\n".join(texts[16:])]).reshape("paragraph")
    m = TopicModel(n_topics=4).fit(dtm(tokens(c, cache=False)))
    assert "position" in m.doc_topics_table().columns
    p = m.representative_passages(c, n=40, max_chars=12)
    assert list(p.columns) == ["topic", "doc_id", "position", "weight", "passage"]
    assert p["passage"].str.contains("網格員|矛盾糾紛").any()
    assert (p["passage"].str.replace("…", "").str.len() <= 12).all()
    with pytest.raises(ZhiliError, match="E048"):
        m.representative_passages(c.subset([True] * 3 + [False] * (len(c) - 3)))


def test_transform_aligns_vocabulary_by_term(planted, fitted):
    d = planted[1]
    direct = fitted.transform(d)
    np.testing.assert_allclose(direct, fitted.doc_topic_, atol=0.05)
    order = np.arange(d.shape[1])[::-1]
    shuffled = type(d)(d.matrix[:, order].tocsr(), d.vocabulary[order], d.docvars)
    np.testing.assert_allclose(fitted.transform(shuffled), direct, atol=1e-9)
    other = dtm(tokens(corpus_from_texts(["财政 预算 审计"]), cache=False))
    with pytest.raises(ZhiliError, match="E045"):
        fitted.transform(other)


def test_save_load_round_trip(tmp_path, planted):
    m = TopicModel(n_topics=4).fit(planted[1]).name_topics(["一", "二", "三", "四"])
    m.save(tmp_path / "model")
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["topic_names"] == ["一", "二", "三", "四"] and len(manifest["corpus_sha256"]) == 64
    assert "scikit-learn" in manifest["libraries"] and manifest["settings"]["method"] == "nmf"
    loaded = TopicModel.load(tmp_path / "model")
    assert loaded.topics_table().to_csv() == m.topics_table().to_csv()
    np.testing.assert_allclose(loaded.transform(planted[1]), m.transform(planted[1]))
    lda = TopicModel(n_topics=4, method="lda").fit(planted[1])
    lda.save(tmp_path / "lda")
    np.testing.assert_allclose(TopicModel.load(tmp_path / "lda").transform(planted[1]), lda.transform(planted[1]))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "manifest.json").write_text("{}", encoding="utf-8")
    for bad in (tmp_path / "junk", tmp_path / "missing"):
        with pytest.raises(ZhiliError, match="E044"):
            TopicModel.load(bad)


def test_search_k_recommends_the_planted_number(planted):
    result = search_k(planted[1], ks=[2, 4, 6], n_seeds=2)
    assert isinstance(result, KSearch)
    assert list(result.table.columns) == ["k", "perplexity", "coherence_npmi", "exclusivity", "diversity",
                                          "stability", "score", "frontier", "recommended"]
    assert result.table["perplexity"].notna().all()  # held-out fit for NMF too (fold-in)
    assert result.recommended_k == 4 and result.table["recommended"].sum() == 1
    assert "K=4" in result.reason and "held-out" in result.reason
    auto = TopicModel(n_topics="auto", search_ks=[2, 4, 6]).fit(planted[1])
    assert auto.n_topics_ == 4 and auto.k_search_.recommended_k == 4
    lda = search_k(planted[1], ks=[3, 4], method="lda", n_seeds=2)
    assert lda.table["perplexity"].notna().all() and "perplexity" in lda.reason


def test_heldout_perplexity_prefers_the_true_topics(planted):
    table = search_k(planted[1], ks=[2, 4], n_seeds=1, widen=False, refine=False).table
    assert table.set_index("k").loc[4, "perplexity"] < table.set_index("k").loc[2, "perplexity"]


def test_npmi_is_high_for_words_that_occur_together(planted, fitted):
    binary = (planted[1].matrix > 0).astype(float)
    assert coherence_npmi(fitted.topic_term_, binary, n=5).min() > 0.0


def test_guided_topics_anchor_themes_and_take_their_names(planted):
    seeds = {"矛盾化解": ["矛盾纠纷", "调解", "信访"], "环境": ["污水", "河长"]}
    m = TopicModel(n_topics=4, themes=seeds).fit(planted[1])
    assert m.topic_names_[:2] == ["矛盾化解", "环境"]
    assert set(m.top_terms(6)[0]) - set(SHARED) <= set(THEMES["矛盾化解"])
    assert set(m.top_terms(3)[1]) <= set(THEMES["环境"])
    labels = np.array(planted[2])
    assert (m.doc_topic_[labels == 1].argmax(axis=1) == 0).mean() > 0.9
    assert (m.doc_topic_[labels == 3].argmax(axis=1) == 1).mean() > 0.9
    lda = TopicModel(n_topics=4, method="lda", themes=seeds).fit(planted[1])
    assert set(lda.top_terms(3)[0]) <= set(THEMES["矛盾化解"] + SHARED)
    assert lda.topic_names_[:2] == ["矛盾化解", "环境"]
    with pytest.warns(UserWarning, match="网格长"):
        TopicModel(n_topics=4, themes={"网格化": ["网格", "网格长"]}).fit(planted[1])
    with pytest.raises(ZhiliError, match=r"E043.*'安全'.*消防, 应急"):
        TopicModel(n_topics=4, themes={"安全": ["消防", "应急"]}).fit(planted[1])


def test_partial_fit_updates_an_online_lda(planted):
    d = planted[1]
    m = TopicModel(n_topics=4, method="lda")
    for rows in np.array_split(np.arange(d.shape[0]), 3):
        chunk = type(d)(d.matrix[rows], d.vocabulary, d.docvars.iloc[rows].reset_index(drop=True))
        m.partial_fit(chunk)
    last = len(np.array_split(np.arange(d.shape[0]), 3)[-1])
    assert m.doc_topic_.shape == (last, 4) and len(m.docvars_) == last and m.n_units_seen_ == d.shape[0]
    assert m.transform(d).shape == (d.shape[0], 4)
    assert np.isclose(m.topic_sizes_.sum(), 1) and np.isclose(m.term_frequency_.sum(), 1)
    expected = np.asarray(d.matrix.sum(axis=0)).ravel() / d.matrix.sum()
    assert np.allclose(m.term_frequency_, expected)  # running totals over every chunk, not the last
    with pytest.raises(ZhiliError, match="E042"):
        TopicModel(n_topics=4, method="nmf").partial_fit(d)


@pytest.mark.parametrize("k", [0, 1, 2.5, True, "many"])
def test_bad_numbers_of_topics(planted, k):
    with pytest.raises(ZhiliError, match="E040"):
        TopicModel(n_topics=k).fit(planted[1])


def test_other_bad_input(planted):
    d = planted[1]
    with pytest.raises(ZhiliError, match=r"E041.*60 units for 80"):
        TopicModel(n_topics=80).fit(d)
    with pytest.raises(ZhiliError, match="E042.*'bert'"):
        TopicModel(n_topics=4, method="bert").fit(d)
    with pytest.raises(ZhiliError, match="E030"):
        TopicModel(n_topics=4).fit(type(d)(d.matrix[:, :0], d.vocabulary[:0], d.docvars))
    with pytest.raises(ZhiliError, match="E030"):
        dtm_trim(d, min_df=1000)
    with pytest.raises(ZhiliError, match="E047.*tfidf"):
        TopicModel(n_topics=4).fit(dtm_weight(d, "tfidf"))
    with pytest.raises(ZhiliError, match="E056"):
        TopicModel().topics_table()


def test_thucnews_topic_recovery(shared_data):
    path = shared_data("thucnews_cnews1k") / "docs.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    d = dtm_trim(dtm(tokens(corpus_from_texts([r["text"] for r in docs]), cache=False)),
                 min_df=5, max_df=0.95, max_features=20000)
    m = TopicModel(n_topics=10).fit(d)
    assert normalized_mutual_info_score([r["label"] for r in docs], m.doc_topic_.argmax(axis=1)) >= 0.85


@pytest.mark.parametrize("ks", [[2, 3], [6, 8, 10]])
def test_search_k_widens_the_range_instead_of_recommending_its_edge(planted, ks):
    result = search_k(planted[1], ks=ks, n_seeds=2)
    assert result.recommended_k == 4  # the planted number, outside the range given
    assert "were added" in result.reason and set(ks) < set(result.table["k"])
    assert not result.reason.endswith("outside this range.")


def test_search_k_says_when_it_cannot_widen_further(planted):
    result = search_k(planted[1], ks=[4, 5, 6], n_seeds=2, widen=False)
    if result.recommended_k in (4, 6):
        assert "outside this range" in result.reason


# --- a scikit-learn citizen (issue 11 §6) ------------------------------------------------------

def test_works_after_count_vectorizer_in_a_pipeline(planted):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import Pipeline

    texts, labels = planted_texts()
    pipe = Pipeline([("counts", CountVectorizer(token_pattern=r"[^ ]+")), ("topics", TopicModel(n_topics=4))])
    shares = pipe.fit_transform(texts)
    assert shares.shape == (len(texts), 4) and np.allclose(shares.sum(axis=1), 1)
    assert normalized_mutual_info_score(labels, shares.argmax(axis=1)) > 0.95
    assert pipe.transform(texts[:3]).shape == (3, 4)
    assert pipe["topics"].get_feature_names_out().tolist() == ["topic_0", "topic_1", "topic_2", "topic_3"]


def test_fit_takes_a_sparse_matrix_or_a_dense_array_and_y(planted):
    import scipy.sparse as sp

    d = planted[1]
    from_dtm = TopicModel(n_topics=4).fit(d)
    from_csr = TopicModel(n_topics=4).fit(sp.csr_matrix(d.matrix), y=np.zeros(d.shape[0]))
    from_dense = TopicModel(n_topics=4).fit(d.matrix.toarray())
    np.testing.assert_allclose(from_csr.doc_topic_, from_dtm.doc_topic_)
    np.testing.assert_allclose(from_dense.doc_topic_, from_dtm.doc_topic_)
    assert from_csr.vocabulary_[0] == "x0" and from_csr.n_features_in_ == d.shape[1]
    np.testing.assert_allclose(from_csr.transform(d.matrix), from_dtm.transform(d))
    with pytest.raises(ValueError, match="features"):
        from_csr.transform(d.matrix[:, :5])
    with pytest.raises(ValueError, match="[Nn]egative"):
        TopicModel(n_topics=4).fit(-d.matrix.toarray())


def test_parameters_follow_scikit_learn(planted):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    m = TopicModel(n_topics=4, themes={"养老": ["养老"]})
    with pytest.raises(ValueError, match="bogus"):
        m.set_params(bogus=1)
    assert clone(m).get_params() == m.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(m)
    with pytest.raises(NotFittedError, match="E056"):
        m.transform(planted[1])
    with pytest.raises(ZhiliError, match="E056"):
        m.topics_table()
    with pytest.raises(ValueError, match="min_tokens"):
        TopicModel(n_topics=4, min_tokens=-1).fit(planted[1])
    check_is_fitted(m.fit(planted[1]))
    assert m.n_iter_ >= 1 and isinstance(m.converged_, bool) and m.settings_["converged"] == m.converged_


def test_refit_resets_every_fitted_attribute(planted):
    from zhili.compare import compare_topics

    m = TopicModel(n_topics="auto", search_ks=[2, 4], n_jobs=1).fit(planted[1])
    compare_topics(m, "city", n_draws=5)
    assert hasattr(m, "k_search_") and hasattr(m, "_posterior_draws")
    m.set_params(n_topics=3).fit(planted[1])
    assert not hasattr(m, "k_search_") and not hasattr(m, "_posterior_draws") and m.n_topics_ == 3


def test_partial_fit_after_fit_updates_the_same_lda(planted):
    d = planted[1]
    m = TopicModel(n_topics=4, method="lda").fit(d)
    before = m.topic_term_.copy()
    m.partial_fit(d)
    assert m.doc_topic_.shape == (d.shape[0], 4) and not np.allclose(m.topic_term_, before)
    assert m.n_units_seen_ == 2 * d.shape[0]
    with pytest.raises(ZhiliError, match="E042"):
        TopicModel(n_topics=4).fit(d).partial_fit(d)


@parametrize_with_checks([TopicModel(n_topics=2)])
def test_passes_scikit_learn_estimator_checks(estimator, check):
    # Issue 11 §6: every check of scikit-learn's check_estimator passes (no expected failures).
    check(estimator)


@pytest.mark.parametrize("method", ["nmf", "lda"])
def test_fit_transform_gives_what_transform_gives(planted, method):
    # Regression: NMF's doc_topic_ was W of the joint fit, transform a fold-in (up to 0.6 apart on court texts)
    m = TopicModel(n_topics=4, method=method)
    shares = m.fit_transform(planted[1])
    np.testing.assert_allclose(shares, m.transform(planted[1]), atol=1e-9)
    np.testing.assert_allclose(shares, m.doc_topic_)


def test_partial_fit_exists_only_for_online_lda(planted):
    d = planted[1]
    assert hasattr(TopicModel(n_topics=4), "partial_fit") and hasattr(TopicModel(n_topics=4, method="lda"), "partial_fit")
    assert not hasattr(TopicModel(n_topics=4, method="nmf"), "partial_fit")
    assert not hasattr(TopicModel(n_topics=4).fit(d), "partial_fit")  # 'auto' fitted NMF
    with pytest.raises(AttributeError, match="E042.*nmf"):
        TopicModel(n_topics=4, method="nmf").partial_fit(d)
    with pytest.raises(ZhiliError, match="E042.*'bert'"):
        TopicModel(n_topics=4, method="bert").partial_fit(d)


def test_too_few_units_or_terms_say_so_in_scikit_learn_words(planted):
    d = planted[1]
    with pytest.raises(ZhiliError, match=r"E041.*n_samples=1\b"):
        TopicModel(n_topics=2).fit(d.matrix[:1])
    with pytest.raises(ZhiliError, match=r"E040.*n_features=1\b"):
        TopicModel(n_topics=2).fit(d.matrix[:, :1])


def test_partial_fit_memory_does_not_grow_with_the_number_of_chunks(planted):
    # Regression (issue 12): every call re-stacked all earlier chunks' rows (quadratic time, memory
    # growing with the corpus). Now only running totals travel from chunk to chunk.
    d = planted[1]
    m = TopicModel(n_topics=4, method="lda")
    sizes = []
    for _ in range(6):
        m.partial_fit(d)
        sizes.append(sum(np.asarray(a).nbytes for a in vars(m).values() if isinstance(a, np.ndarray)))
    assert len(set(sizes)) == 1 and m.n_units_seen_ == 6 * d.shape[0]


def test_seed_topics_is_a_deprecated_alias_of_themes(planted):
    seeds = {"环境": ["污水", "河长"]}
    with pytest.warns(DeprecationWarning, match="themes="):
        old = TopicModel(n_topics=4, seed_topics=seeds).fit(planted[1])
    new = TopicModel(n_topics=4, themes=seeds).fit(planted[1])
    assert old.topic_names_ == new.topic_names_ and new.topic_names_[0] == "环境"
    assert new.settings_["themes"] == {"环境": ["污水", "河长"]}


def test_no_private_scikit_learn_api_is_used():
    import inspect

    import zhili.topics

    source = inspect.getsource(zhili.topics)
    for private in ("_unnormalized_transform", "_init_latent_vars", "_online_lda_fast"):
        assert private not in source


@pytest.mark.parametrize("method", ["nmf", "lda"])
def test_transform_of_a_unit_does_not_depend_on_the_units_transformed_with_it(method):
    """NMF fold-in stopped on the whole batch's loss, so a unit's shares changed with its company
    (scikit-learn's check_methods_subset_invariance)."""
    counts = np.random.default_rng(0).integers(0, 6, size=(40, 12))
    m = TopicModel(n_topics=3, method=method, min_tokens=0).fit(counts)
    whole = m.transform(counts)
    for part in (slice(0, 7), slice(7, 30), slice(30, None)):
        np.testing.assert_allclose(m.transform(counts[part]), whole[part], rtol=1e-10, atol=1e-12)


def test_more_topics_than_terms_is_a_coded_error_not_an_index_error():
    counts = np.random.default_rng(0).integers(1, 5, size=(10, 1))
    with pytest.raises(ZhiliError, match="E040.*more than the 1 terms"):
        TopicModel(n_topics=2, min_tokens=0).fit(counts)


def test_scikit_learn_tags_say_sparse_non_negative_counts():
    sklearn_version = tuple(int(x) for x in __import__("sklearn").__version__.split(".")[:2])
    assert isinstance(TopicModel().get_params()["search_ks"], tuple)  # an immutable default
    if sklearn_version < (1, 6):
        pytest.skip("estimator tags are read from __sklearn_tags__ since scikit-learn 1.6")
    from sklearn.utils import get_tags

    tags = get_tags(TopicModel())
    assert tags.input_tags.sparse and tags.input_tags.positive_only


def test_passages_are_ranked_without_ties_from_distinct_documents():
    short, long = "养老 托育", "养老 托育 医疗 护理 养老 托育 医疗 护理 养老 托育 助餐"
    texts = [f"{short}\n{long}"] * 3 + ["调解 信访 化解\n调解 信访 化解 矛盾纠纷"] * 3
    c = corpus_from_texts(texts, docvars={"city": ["甲", "乙"] * 3}).reshape("paragraph")
    m = TopicModel(n_topics=2, min_tokens=1).fit(dtm(tokens(c, cache=False)))
    p = m.representative_passages(c, n=2)
    assert p.groupby("topic")["doc_id"].nunique().eq(2).all()  # two documents, not two paragraphs of one
    assert not p["passage"].eq(short).any()  # the longer of equally typical paragraphs
    per_city = m.representative_passages(c, n=1, by="city")
    assert list(per_city.columns[:2]) == ["by", "group"] and set(per_city["group"]) == {"甲", "乙"}


# --- idf_by: a term's document frequency over groups of units --------------------------------

def _report_paragraphs():
    """Three reports of paragraphs: every report has a 网格 paragraph; only report 2 speaks of
    疫情, in all of its paragraphs."""
    reports = ["网格员 网格 巡查 工作\n\n调解 矛盾纠纷 信访 工作\n\n养老 托育 医疗 工作",
               "网格员 网格 台账 工作\n\n调解 化解 诉求 工作\n\n污水 河长 水质 工作",
               "网格员 网格 走访 疫情\n\n疫情 防控 核酸 疫情\n\n疫情 隔离 物资 疫情\n\n疫情 防控 社区 疫情"]
    return dtm(tokens(corpus_from_texts(reports).reshape("paragraph"), cache=False))


def test_idf_by_counts_the_source_documents_that_use_a_term():
    d = _report_paragraphs()
    vocab = list(d.vocabulary)
    by_unit, by_report = (TopicModel(n_topics=2, min_tokens=1, idf_by=v).fit(d)._backend["idf"] for v in (None, "doc_id"))
    # 疫情 is in 4 of 10 paragraphs but 1 of 3 reports; 网格 in 3 of 10 paragraphs but every report
    assert by_unit[vocab.index("疫情")] < by_unit[vocab.index("网格")]
    assert by_report[vocab.index("疫情")] > by_report[vocab.index("网格")] == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=6, max_size=6), st.integers(0, 2**16))
def test_idf_over_groups_is_the_idf_of_the_groups_summed(groups, seed):
    """Property: grouped idf equals scikit-learn's smooth idf of the groups' summed rows; one unit per
    group gives the plain idf."""
    from sklearn.feature_extraction.text import TfidfTransformer

    from zhili.topics import _smooth_idf

    rng = np.random.default_rng(seed)
    X = sp.csr_matrix(rng.poisson(0.7, size=(6, 5)).astype(float))
    labels = np.asarray(groups)
    summed = np.vstack([np.asarray(X[labels == g].sum(axis=0)) for g in np.unique(labels)])
    np.testing.assert_allclose(_smooth_idf(X, labels), TfidfTransformer().fit(summed).idf_)
    np.testing.assert_allclose(_smooth_idf(X, np.arange(6)), _smooth_idf(X))


def test_idf_by_reaches_search_k_transform_and_the_settings():
    d = _report_paragraphs()
    m = TopicModel(n_topics=2, min_tokens=1, idf_by="doc_id").fit(d)
    np.testing.assert_allclose(m.transform(d), m.doc_topic_)
    assert m.settings_["idf_by"] == "doc_id"
    result = search_k(d, ks=[2, 3], n_seeds=2, widen=False, min_tokens=1, idf_by="doc_id")
    assert result.recommended_k in (2, 3)


def test_idf_by_a_missing_value_is_a_group_of_its_own():
    from zhili.errors import ZhiliWarning
    from zhili.topics import idf_groups

    c = corpus_from_texts(["网格 巡查", "调解 信访", "养老 医疗", "网格 调解"],
                          docvars={"report": ["甲", None, None, "甲"]})
    with pytest.warns(ZhiliWarning, match=r"W147\] 2 of 4 units have no value of 'report'"):
        assert idf_groups(dtm(tokens(c, cache=False)), "report", "nmf").tolist() == [0, 1, 2, 0]


@pytest.mark.parametrize("kwargs, words", [
    ({"idf_by": "county"}, ["E147", "'county' is not a document variable", "doc_id"]),
    ({"idf_by": "doc_id", "method": "lda"}, ["E147", "method 'lda'", "method='nmf'"]),
], ids=["unknown_variable", "not_nmf"])
def test_idf_by_that_cannot_apply_is_a_coded_error(kwargs, words):
    with pytest.raises(ZhiliError) as e:
        TopicModel(n_topics=2, min_tokens=1, **kwargs).fit(_report_paragraphs())
    assert all(w in str(e.value) for w in words), str(e.value)


def test_idf_by_on_a_plain_matrix_is_a_coded_error_not_ignored_regression():
    """A counts matrix (or a Pipeline after CountVectorizer) has only row numbers as doc_id: idf_by='doc_id'
    used to group every row on its own and fit the plain idf without a word."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import make_pipeline

    d = _report_paragraphs()
    with pytest.raises(ZhiliError, match=r"E147.*plain matrix"):
        TopicModel(n_topics=2, min_tokens=1, idf_by="doc_id").fit(d.matrix)
    texts = ["网格员 网格 巡查"] * 5 + ["调解 矛盾纠纷 信访"] * 5
    pipe = make_pipeline(CountVectorizer(token_pattern=r"[^ ]+"), TopicModel(n_topics=2, min_tokens=1, idf_by="doc_id"))
    with pytest.raises(ZhiliError, match="E147"):
        pipe.fit(texts)


def test_idf_by_with_partial_fit_is_a_coded_error_not_ignored_regression():
    """partial_fit is an online LDA: it used to drop idf_by silently."""
    with pytest.raises(ZhiliError, match="E147"):
        TopicModel(n_topics=2, idf_by="doc_id").partial_fit(_report_paragraphs())


def test_idf_by_units_without_a_value_are_warned_regression():
    """Units with no value of idf_by are groups of their own (the plain idf): said once (W147), as --by says
    W171, and when no unit has a value the setting changes nothing."""
    import warnings

    from zhili.errors import ZhiliWarning

    c = corpus_from_texts(["网格 巡查", "调解 信访", "养老 医疗", "网格 调解", "网格 巡查 养老", "调解 医疗"],
                          docvars={"report": ["甲", None, None, "甲", "乙", "乙"], "none": [None] * 6})
    d = dtm(tokens(c, cache=False))
    for var, count, nothing in (("report", "2 of 6", False), ("none", "6 of 6", True)):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            TopicModel(n_topics="auto", min_tokens=1, idf_by=var).fit(d)
        said = [str(w.message) for w in got if issubclass(w.category, ZhiliWarning) and "W147" in str(w.message)]
        assert len(said) == 1 and count in said[0] and ("changes nothing" in said[0]) == nothing, said
