import pandas as pd
import pytest

from zhili.corpus import corpus_from_texts
from zhili.dtm import dtm, dtm_group, dtm_trim, dtm_weight, term_frequencies, write_table
from zhili.errors import ZhiliError
from zhili.tokens import tokens

TEXTS = ["网格化 网格化 平安建设", "平安建设 矛盾纠纷", "网格化 矛盾纠纷 矛盾纠纷"]


@pytest.fixture
def d():
    c = corpus_from_texts(TEXTS, docvars={"city": ["南通", "苏州", "南通"], "year": [2019, 2020, 2020]})
    return dtm(tokens(c, cache=False))


def test_counts_and_docvars(d):
    assert d.shape == (3, 3) and d.matrix.sum() == 8
    assert d.docvars["city"].tolist() == ["南通", "苏州", "南通"]


def test_trim(d):
    assert set(dtm_trim(d, min_count=3).vocabulary) == {"网格化", "矛盾纠纷"}
    assert dtm_trim(d, max_features=1).vocabulary.tolist() == ["网格化"]
    with pytest.raises(ZhiliError, match="E030"):
        dtm_trim(d, min_df=10)


def test_group_by_one_and_two_variables(d):
    g = dtm_group(d, "city")
    assert g.docvars["n_units"].tolist() == [2, 1] and g.matrix.sum() == 8
    assert len(dtm_group(d, ["city", "year"]).docvars) == 3
    with pytest.raises(ZhiliError, match=r"\[E012\] by= names docvar 'province', which the documents do not have; available: doc_id"):
        dtm_group(d, "province")


@pytest.mark.parametrize("scheme", ["prop", "tfidf"])
def test_weight(d, scheme):
    w = dtm_weight(d, scheme)
    assert w.weighting == scheme and w.matrix.dtype.kind == "f"
    if scheme == "prop":
        assert w.matrix.sum(axis=1).round(6).tolist() == [[1.0]] * 3


def test_term_frequencies_by_group(d):
    t = term_frequencies(d, by="city")
    assert t[(t.city == "南通") & (t.term == "网格化")]["count"].item() == 3


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_write_formats(d, tmp_path, suffix):
    path = d.write(tmp_path / f"dtm{suffix}")
    if suffix == ".csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        back = pd.read_csv(path, encoding="utf-8-sig")
    else:
        back = pd.read_parquet(path) if suffix == ".parquet" else pd.read_excel(path)
    assert len(back) == d.matrix.nnz and "网格化" in set(back["term"])


def test_unknown_table_format(tmp_path):
    with pytest.raises(ZhiliError, match="E032"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.txt")


def test_dtm_counted_in_blocks_equals_counting_at_once(monkeypatch):
    import zhili.dtm as dtm_module

    toks = tokens(corpus_from_texts(["网格化 平安建设 网格化", "", "矛盾纠纷 网格化", "平安建设"]), cache=False)
    whole = dtm(toks).matrix
    monkeypatch.setattr(dtm_module, "COUNT_ROWS", 1)
    blocks = dtm(toks).matrix
    assert blocks.dtype == whole.dtype and blocks.shape == whole.shape and (blocks != whole).nnz == 0
    assert (blocks.indptr == whole.indptr).all() and (blocks.indices == whole.indices).all()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_dtm_counted_round_by_round_equals_counting_the_tokens(monkeypatch, tmp_path, n_jobs):
    import zhili.dtm as dtm_module
    from zhili.dtm import dtm_counted

    texts = [f"推进网格化服务管理第{i}年，矛盾纠纷化解。\n平安建设{i % 3}" for i in range(40)]
    c = corpus_from_texts(texts, docvars={"year": [2000 + i % 5 for i in range(40)]}).spill().reshape("paragraph")
    monkeypatch.setattr(dtm_module, "ROUND_SHARDS", 1)
    monkeypatch.setattr(c, "shards", lambda max_chars=100_000, max_units=2_000, f=c.shards: f(max_chars, 7))
    whole = dtm(tokens(c, cache=False, n_jobs=n_jobs))
    counted = dtm_counted(c, cache=tmp_path, n_jobs=n_jobs)
    assert (counted.matrix != whole.matrix).nnz == 0 and list(counted.vocabulary) == list(whole.vocabulary)
    pd.testing.assert_frame_equal(counted.docvars, whole.docvars)
    assert set(counted.meta) == set(whole.meta) and counted.meta["cache"] == "0 of 12 shards"
    again = dtm_counted(c, cache=tmp_path, n_jobs=n_jobs)
    assert again.meta["cache"] == "hit" and (again.matrix != whole.matrix).nnz == 0
    for entry in (tmp_path / "final").glob("*.counts.npz"):
        entry.write_bytes(b"PK planted")
    redone = dtm_counted(c, cache=tmp_path, n_jobs=n_jobs)
    assert redone.meta["cache"] == "12 of 12 shards" and list(redone.vocabulary) == list(whole.vocabulary)


def test_dtm_counted_with_a_pos_filter_counts_the_tokens_whole():
    from zhili.dtm import dtm_counted
    from zhili.tokens import TokenFilter

    c = corpus_from_texts(["推进网格化服务管理，化解矛盾纠纷。", "建设平安南通"])
    f = TokenFilter(pos=("n", "vn"))
    whole, counted = dtm(tokens(c, cache=False, filter=f)), dtm_counted(c, cache=False, filter=f)
    assert (counted.matrix != whole.matrix).nnz == 0 and list(counted.vocabulary) == list(whole.vocabulary)


@pytest.mark.parametrize("axis", [0, 1])
def test_matrix_sums_equal_scipy_sums_without_the_upcast_copy(axis):
    import numpy as np
    import scipy.sparse as sp

    from zhili.dtm import matrix_sums

    cases = [sp.random(60, 30, 0.3, format="csr", random_state=1, dtype=np.float64),
             sp.csr_matrix(np.array([[0, 0], [3, 0], [0, 0], [2, 5]], dtype=np.int32)), sp.csr_matrix((0, 4), dtype=np.int32)]
    cases.append(cases[0].astype(np.int32))
    for m in cases:
        got = matrix_sums(m, axis, block=7)
        assert np.allclose(got, np.asarray(m.sum(axis=axis)).ravel())
        assert got.dtype == (np.int64 if np.issubdtype(m.dtype, np.integer) else m.dtype)


@pytest.mark.parametrize("pos", [None, ("n",)])
def test_tokens_of_zero_units_have_zero_rows(pos):
    """Bug: tokens() of a corpus with no units had one (empty) unit, so dtm() had a phantom row
    (shape (1, 0) against 0 docvars) while dtm_counted() had none."""
    from zhili.dtm import dtm_counted
    from zhili.tokens import TokenFilter

    c = corpus_from_texts(["网格化"]).subset([False])
    toks = tokens(c, cache=False, filter=TokenFilter(pos=pos))
    assert len(toks) == 0 and (toks.pos_ids is None or len(toks.pos_ids) == 0)
    assert dtm(toks).shape == (0, 0) == dtm_counted(c.spill(), cache=False).shape
