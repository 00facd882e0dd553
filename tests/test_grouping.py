"""Grouping by document variables: one behaviour for every comparison (keyness, prevalence,
trends, dictionary) on absent, partly missing, all missing, single and many groups."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from zhili.compare import compare_topics, term_trends, topic_trends
from zhili.dictionary import Dictionary, code_dictionary
from zhili.dtm import DTM
from zhili.errors import ZhiliError, ZhiliWarning
from zhili.grouping import group_labels, indicator, make_grouping, numeric_years
from zhili.keyness import keyness

N = 40


def data(values) -> tuple[DTM, types.SimpleNamespace]:
    """A DTM and a fitted-model stand-in over ``N`` documents with docvar ``v`` = ``values``."""
    rng = np.random.default_rng(0)
    counts = sp.csr_matrix(rng.poisson(3, size=(N, 6)))
    dv = pd.DataFrame({"doc_id": [f"d{i}" for i in range(N)], "v": pd.Series(values, dtype=object)})
    d = DTM(counts, np.array(["网格", "调解", "养老", "污水", "招商", "发展"], dtype=object), dv)
    alpha = rng.gamma(2.0, 5.0, size=(N, 3))
    model = types.SimpleNamespace(n_topics_=3, doc_topic_=alpha / alpha.sum(1, keepdims=True),
                                  doc_topic_concentration_=alpha, docvars_=dv, labels_=["a", "b", "c"],
                                  topic_names_=None)
    return d, model


DICTIONARY = Dictionary({"基层": ("网格", "调解")})
CONSUMERS = {
    "keyness": lambda d, m: keyness(d, "v", min_count=1),
    "topic prevalence": lambda d, m: compare_topics(m, "v", n_draws=5),
    "dictionary coding": lambda d, m: code_dictionary(d, DICTIONARY, by="v"),
}


@pytest.mark.parametrize("what", CONSUMERS)
def test_partly_missing_is_counted_and_left_out(what):
    values = ["甲", "乙"] * 15 + [None, np.nan, "", " ", "nan", pd.NA, None, None, None, None]
    d, m = data(values)
    with pytest.warns(ZhiliWarning, match=rf"\[W140\] 10 of 40 documents have no v; left out of {what}"):
        table = CONSUMERS[what](d, m)
    assert set(table["group"].map(str)) == {"甲", "乙"}


@pytest.mark.parametrize("what", CONSUMERS)
def test_all_missing_is_a_coded_error_saying_so(what):
    d, m = data([None] * N)
    with pytest.raises(ZhiliError, match=r"E050.*'v'.*40 of 40"):
        CONSUMERS[what](d, m)


@pytest.mark.parametrize("what", CONSUMERS)
def test_absent_variable_is_E012(what):
    d, m = data(["甲"] * N)
    d.docvars = d.docvars.drop(columns="v")
    m.docvars_ = d.docvars
    with pytest.raises(ZhiliError, match="E012.*'v'"):
        CONSUMERS[what](d, m)


@pytest.mark.parametrize("what", CONSUMERS)
def test_a_single_group_works_without_warnings(what):
    d, m = data(["甲"] * N)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = CONSUMERS[what](d, m)
    assert set(table["group"]) == {"甲"}


@pytest.mark.parametrize("what", CONSUMERS)
def test_hundreds_of_groups(what):
    global N
    saved, N = N, 400
    try:
        d, m = data([f"县{i % 200}" for i in range(400)])
        table = CONSUMERS[what](d, m)
    finally:
        N = saved
    assert table["group"].nunique() == 200


@pytest.mark.parametrize("by", [5, None, [], ["v", 3]])
def test_by_that_is_not_a_name_is_E140(by):
    d, _ = data(["甲"] * N)
    with pytest.raises(ZhiliError, match="E140"):
        group_labels(d.docvars, by)


@pytest.mark.parametrize("years", [
    pd.array([2019, 2020, None, 2021], dtype="Int64"),
    [2019.0, 2020.0, np.nan, 2021.0],
    ["2019", "2020年", None, "二〇二一年"],
    pd.Series([2019, 2020, None, 2021], dtype=object),
])
def test_years_typed_or_written_are_read_alike(years):
    dv = pd.DataFrame({"doc_id": list("abcd"), "year": years})
    assert numeric_years(dv).tolist() == [2019, 2020, pd.NA, 2021]


@pytest.mark.parametrize("bad", [2019.5, 20190])
def test_a_number_that_is_not_a_year_is_E017(bad):
    dv = pd.DataFrame({"doc_id": ["a", "b"], "year": [2019.0, bad]})
    with pytest.raises(ZhiliError, match=r"E017.*'b'"):
        numeric_years(dv)


def test_missing_year_does_not_crash_trends():
    d, m = data([None] * N)
    years = pd.array([2015 + i % 5 if i % 8 else None for i in range(N)], dtype="Int64")
    d.docvars = d.docvars.assign(year=years)
    m.docvars_ = d.docvars
    with pytest.warns(ZhiliWarning, match="5 of 40 documents have no year; left out of topic trends"):
        table = topic_trends(m, n_draws=5)
    assert table["group"].drop_duplicates().tolist() == [2015, 2016, 2017, 2018, 2019]
    with pytest.warns(ZhiliWarning, match="left out of term trends"):
        assert term_trends(d, ["网格"])["year"].drop_duplicates().tolist() == [2015, 2016, 2017, 2018, 2019]


def test_indicator_sums_rows_by_group():
    g = make_grouping(pd.DataFrame({"doc_id": list("abc"), "v": ["乙", "甲", "乙"]}), "v")
    x = np.array([[1.0], [2.0], [4.0]])
    assert g.values == ["乙", "甲"]  # code-point order
    np.testing.assert_allclose(indicator(g) @ x, [[5.0], [2.0]])
