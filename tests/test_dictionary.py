"""Dictionary files (YAML, CSV, TSV), their errors (E051) and coding per document and group."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from zhili.dictionary import Dictionary, code_dictionary, read_dictionary
from zhili.dtm import DTM
from zhili.errors import ZhiliError, ZhiliWarning

DICTIONARIES = Path(__file__).resolve().parents[1] / "corpus" / "dictionaries"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, text", [
    ("d.yaml", "供给型: [资金支持, 人才培养]\n网格化:\n  terms: [网格员]\n  patterns: ['^网格']\n"),
    ("d.yml", "# comment\n供给型:\n  - 资金支持\n  - 人才培养\n网格化:\n  terms:\n    - 网格员\n  patterns:\n    - ^网格\n"),
    ("d.csv", "\ufeffcategory,term,pattern\n# comment\n供给型,资金支持,\n供给型,人才培养,\n\n网格化,网格员,^网格\n"),
    ("d.tsv", "category\tterm\tpattern\tnote\n供给型\t资金支持\t\t\n供给型\t人才培养\t\tx\n网格化\t网格员\t^网格\t\n"),
])
def test_formats_read_the_same(tmp_path, name, text):
    dic = read_dictionary(write(tmp_path, name, text))
    assert dic.terms == {"供给型": ("资金支持", "人才培养"), "网格化": ("网格员",)}
    assert dic.patterns == {"网格化": ("^网格",)}
    assert dic.categories == ["供给型", "网格化"]


def test_terms_are_normalised_to_simplified(tmp_path):
    dic = read_dictionary(write(tmp_path, "d.yaml", "網格化: [網格員, ＡＩ治理]\n"))
    assert dic.terms == {"網格化": ("网格员", "AI治理")}


@pytest.mark.parametrize("name, text, where", [
    ("d.yaml", "供给型: [资金支持\n网格化: [网格员]\n", "line 2"),
    ("d.yaml", "网格化:\n  terms: [网格员]\n  term: [网格长]\n", "line 3, key '网格化.term'"),
    ("d.yaml", "网格化: 网格员\n", "line 1, key '网格化'"),
    ("d.yaml", "网格化:\n  patterns: ['[网格']\n", "line 2, key '网格化'"),
    ("d.yaml", "网格化: []\n", "key '网格化'"),
    ("d.yaml", "网格化: [网格员]\n网格化: [网格长]\n", "line 2, key '网格化'"),
    ("d.yaml", "- 网格员\n- 网格长\n", "line 1"),
    ("d.yaml", "网格化: [网格员, [网格长]]\n", "line 1"),
    ("d.csv", "类别,词\n网格化,网格员\n", "line 1"),
    ("d.csv", "category,term\n网格化,网格员\n,网格长\n", "line 3"),
    ("d.csv", "category,term,pattern\n网格化,,\n", "line 2"),
    ("d.csv", "category,pattern\n网格化,(网格\n", "line 2"),
    ("d.txt", "网格化 网格员\n", "file type"),
])
def test_bad_files_are_E051_with_line_or_key(tmp_path, name, text, where):
    path = write(tmp_path, name, text)
    with pytest.raises(ZhiliError) as err:
        read_dictionary(path)
    assert err.value.code == "E051"
    assert str(path) in str(err.value) and where in str(err.value) and "README" in str(err.value)


def test_missing_file_is_E001(tmp_path):
    with pytest.raises(ZhiliError, match="E001"):
        read_dictionary(tmp_path / "none.yaml")


@pytest.mark.parametrize("name", ["policy_instruments_example.yaml", "governance_themes_example.yaml"])
def test_shipped_examples_parse_and_say_they_are_examples(name):
    path = DICTIONARIES / name
    dic = read_dictionary(path)
    assert len(dic.categories) >= 3 and all(dic.terms.get(c) for c in dic.categories)
    assert "EXAMPLE" in path.read_text(encoding="utf-8").splitlines()[0]


@pytest.fixture
def paragraphs() -> DTM:
    vocab = ["网格员", "网格化", "税收优惠", "资金", "发展"]
    counts = [[2, 1, 0, 1, 6],   # doc a, paragraph 1
              [0, 0, 1, 0, 9],   # doc a, paragraph 2
              [0, 3, 4, 0, 13],  # doc b
              [0, 0, 0, 0, 0]]   # doc c (empty)
    dv = pd.DataFrame({"doc_id": ["a", "a", "b", "c"], "position": [1, 2, 1, 1],
                       "city": ["南通市", "南通市", "苏州市", "苏州市"], "year": [2019, 2019, 2020, 2020]})
    return DTM(sp.csr_matrix(np.array(counts)), np.array(vocab, dtype=object), dv)


DIC = Dictionary({"网格化": ("网格化",), "供给型": ("税收优惠", "资金")}, {"网格化": ("^网格",)})


def test_counts_and_rates_per_document(paragraphs):
    table = code_dictionary(paragraphs, DIC)
    assert list(table.columns) == ["doc_id", "city", "year", "category", "count", "n_tokens", "rate"]
    got = table.set_index(["doc_id", "category"])
    assert got.loc[("a", "网格化"), "count"] == 3  # 网格员 x2 (pattern) + 网格化 x1 (term and pattern: once)
    assert got.loc[("a", "供给型"), "count"] == 2 and got.loc[("a", "供给型"), "n_tokens"] == 20
    assert got.loc[("a", "供给型"), "rate"] == pytest.approx(100.0)
    assert got.loc[("b", "网格化"), "rate"] == pytest.approx(3 / 20 * 1000)
    assert np.isnan(got.loc[("c", "网格化"), "rate"]) and got.loc[("c", "网格化"), "count"] == 0


def test_counts_and_rates_per_group(paragraphs):
    table = code_dictionary(paragraphs, DIC, by="city", per=100)
    assert list(table.columns) == ["by", "group", "n_docs", "category", "count", "n_tokens", "rate"]
    su = table[(table["group"] == "苏州市") & (table["category"] == "供给型")].iloc[0]
    assert (su["count"], su["n_tokens"], su["n_docs"]) == (4, 20, 2) and su["rate"] == pytest.approx(20.0)


def test_a_term_in_two_categories_counts_in_both(paragraphs):
    dic = Dictionary({"甲": ("网格化",), "乙": ("网格化",)})
    table = code_dictionary(paragraphs, dic).groupby("category")["count"].sum()
    assert table["甲"] == table["乙"] == 4


def test_terms_missing_from_the_vocabulary_are_warned_about(paragraphs):
    with pytest.warns(ZhiliWarning, match="资金支持"):
        table = code_dictionary(paragraphs, Dictionary({"供给型": ("资金支持", "资金")}))
    assert table.attrs["missing_terms"] == ["资金支持"]


def test_match_explains_each_hit():
    hits = DIC.match(["网格员", "网格化", "税收优惠", "发展"])
    assert hits.values.tolist() == [["网格化", "网格化", "term"], ["网格化", "网格员", "pattern ^网格"],
                                    ["供给型", "税收优惠", "term"]]


def test_dictionary_from_a_path(tmp_path, paragraphs):
    path = write(tmp_path, "d.yaml", "网格化:\n  patterns: ['^网格']\n")
    assert code_dictionary(paragraphs, path)["count"].tolist() == [3, 3, 0]


def test_coding_a_corpus_keeps_multi_word_terms_whole():
    from zhili.corpus import corpus_from_texts

    c = corpus_from_texts(["加大资金支持力度，推进网格化管理。\n强化资金支持。", "落实税收优惠政策，培养网格员。"],
                          doc_ids=["南通", "苏州"], docvars={"city": ["南通市", "苏州市"]})
    dic = Dictionary({"供给型": ("资金支持", "税收优惠")}, {"网格化": ("^网格",)})
    table = code_dictionary(c.reshape("paragraph"), dic).set_index(["doc_id", "category"])
    assert table.loc[("南通", "供给型"), "count"] == 2 and table.loc[("苏州", "供给型"), "count"] == 1
    assert table.loc[("南通", "网格化"), "count"] == 1 and table.loc[("苏州", "网格化"), "count"] == 1
    assert table.loc[("南通", "供给型"), "city"] == "南通市"


def test_missing_terms_advice_fits_a_corpus_regression(tmp_path):
    import warnings as w

    from zhili.corpus import corpus_from_texts
    from zhili.dictionary import code_dictionary, read_dictionary

    path = tmp_path / "d.yaml"
    path.write_text("网格:\n  - 网格化\n  - 不存在的词\n", encoding="utf-8")
    with w.catch_warnings(record=True) as caught:
        w.simplefilter("always")
        code_dictionary(corpus_from_texts(["推进网格化"]), read_dictionary(path))
    messages = " ".join(str(c.message) for c in caught)
    assert "不存在的词" in messages and "Code the Corpus instead" not in messages
