"""Interop: a fitted model and its DTM as R (stm/quanteda) and pyLDAvis inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io

from zhili.corpus import corpus_from_texts
from zhili.dtm import dtm
from zhili.errors import ZhiliError
from zhili.export import export_for_pyldavis, export_for_r, pyldavis_data
from zhili.tokens import tokens
from zhili.topics import TopicModel


@pytest.fixture(scope="module")
def fitted():
    texts = ["网格员 网格 巡查 网格化"] * 6 + ["调解 矛盾纠纷 信访 调解"] * 6
    d = dtm(tokens(corpus_from_texts(texts, docvars={"city": ["南通", "苏州"] * 6}), cache=False))
    return TopicModel(n_topics=2).fit(d), d


def test_r_export_round_trips_the_counts(tmp_path, fitted):
    model, d = fitted
    folder = export_for_r(model, d, tmp_path / "r")
    counts = scipy.io.mmread(str(folder / "counts.mtx")).tocsr()
    assert (counts != d.matrix).nnz == 0
    vocabulary = (folder / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert vocabulary == list(d.vocabulary)
    assert "city" in (folder / "docvars.csv").read_text(encoding="utf-8").splitlines()[0]
    script = (folder / "read_zhili.R").read_text(encoding="utf-8")
    assert "readMM" in script and 'to = "stm"' in script


def test_pyldavis_data_has_the_shapes_pyldavis_checks(tmp_path, fitted):
    model, d = fitted
    data = pyldavis_data(model, d)
    assert data["topic_term_dists"].shape == (2, len(data["vocab"]))
    assert np.allclose(data["doc_topic_dists"].sum(axis=1), 1) and np.allclose(data["topic_term_dists"].sum(axis=1), 1)
    assert data["doc_lengths"].tolist() == [4] * 12 and data["term_frequency"].sum() == 48
    loaded = json.loads(export_for_pyldavis(model, d, tmp_path / "ldavis.json").read_text(encoding="utf-8"))
    assert set(loaded) == set(data)


def test_a_dtm_that_is_not_the_models_is_E048(fitted):
    model, d = fitted
    with pytest.raises(ZhiliError, match="E048"):
        pyldavis_data(model, type(d)(d.matrix[:3], d.vocabulary, d.docvars.iloc[:3]))
