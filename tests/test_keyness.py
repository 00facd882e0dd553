"""Keyness: G² and chi² against hand-computed 2 x 2 tables, Benjamini-Hochberg, signs,
target/reference comparisons and leaving place names out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.stats import chi2_contingency, false_discovery_control

from zhili.dtm import DTM
from zhili.errors import ZhiliError
from zhili.keyness import benjamini_hochberg, keyness, keyness_table, place_term_mask, signed_g2_chi2

VOCAB = ["疫情", "防控", "改革", "发展", "南通市", "南通", "社区", "崇川区"]
COUNTS = [  # rows: documents; columns: VOCAB
    [40, 30, 5, 50, 0, 0, 10, 0],   # 2022
    [35, 25, 6, 60, 0, 0, 12, 0],   # 2022
    [0, 2, 30, 60, 20, 25, 10, 8],  # 2019
    [1, 1, 35, 55, 18, 30, 11, 9],  # 2019
    [0, 1, 40, 70, 0, 0, 9, 0],     # 2018
]


@pytest.fixture
def reports() -> DTM:
    dv = pd.DataFrame({"doc_id": list("abcde"), "year": pd.array([2022, 2022, 2019, 2019, 2018], dtype="Int64"),
                       "city": ["南通市", "南通市", "南通市", "苏州市", "苏州市"]})
    return DTM(sp.csr_matrix(np.array(COUNTS)), np.array(VOCAB, dtype=object), dv)


def g2_by_hand(a: int, b: int, n1: int, n2: int) -> float:
    """G² = 2 Σ O ln(O/E) over the four cells of [[a, b], [n1-a, n2-b]]."""
    observed = [a, b, n1 - a, n2 - b]
    total = n1 + n2
    expected = [(a + b) * n1 / total, (a + b) * n2 / total, (total - a - b) * n1 / total, (total - a - b) * n2 / total]
    return 2 * sum(o * math.log(o / e) for o, e in zip(observed, expected) if o > 0)


@pytest.mark.parametrize("a, b, n1, n2, expected", [
    (10, 5, 100, 200, 7.3298),   # worked by hand: E = 5, 10, 95, 190
    (5, 10, 100, 200, 0.0),      # same rate on both sides
    (0, 20, 1000, 1000, -27.9279),  # absent: 2(20 ln 2 + 1000 ln(1000/990) + 980 ln(980/990)), negative
])
def test_g2_matches_hand_computed_2x2(a, b, n1, n2, expected):
    g2, chi2 = signed_g2_chi2(np.array([a], float), np.array([b], float), n1, n2)
    assert g2[0] == pytest.approx(expected, abs=1e-3)
    assert abs(g2[0]) == pytest.approx(g2_by_hand(a, b, n1, n2), abs=1e-9)
    table = np.array([[a, b], [n1 - a, n2 - b]])
    if a * n2 != b * n1:
        assert abs(chi2[0]) == pytest.approx(chi2_contingency(table, correction=False)[0])
        assert abs(g2[0]) == pytest.approx(chi2_contingency(table, correction=False, lambda_="log-likelihood")[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_benjamini_hochberg_matches_scipy(seed):
    p = np.random.default_rng(seed).uniform(0, 0.2, size=50)
    assert np.allclose(benjamini_hochberg(p), false_discovery_control(p))


def test_each_group_against_the_rest(reports):
    table = keyness(reports, "year", min_count=1)
    assert list(table.columns) == ["by", "group", "reference", "term", "g2", "chi2", "log_ratio", "p", "p_adj",
                                   "count_group", "count_rest", "rate_group", "rate_rest"]
    assert table["group"].drop_duplicates().tolist() == [2018, 2019, 2022]
    top2022 = table[table["group"] == 2022]
    assert top2022["term"].iloc[0] in {"疫情", "防控"}
    assert top2022["g2"].is_monotonic_decreasing
    negative = top2022[top2022["g2"] < 0]
    assert len(negative) and (negative["log_ratio"] < 0).all()  # under-used terms kept, with a sign
    first = top2022.set_index("term").loc["疫情"]
    assert (first["count_group"], first["count_rest"]) == (75, 1)
    n_group, n_rest = sum(map(sum, COUNTS[:2])), sum(map(sum, COUNTS[2:]))
    assert first["rate_group"] == pytest.approx(75 / n_group * 1e6)
    assert first["g2"] == pytest.approx(g2_by_hand(75, 1, n_group, n_rest))
    assert (top2022["p_adj"] >= top2022["p"]).all()


def test_target_against_a_reference_group(reports):
    table = keyness(reports, "year", target="2022", reference=[2018], min_count=1)
    assert set(table["group"]) == {2022} and set(table["reference"]) == {"2018"}
    assert table.set_index("term").loc["疫情", "count_rest"] == 0


@pytest.mark.parametrize("target, reference", [(2030, None), (2022, 1999), ("南通", None)])
def test_target_that_is_not_a_value_is_E052(reports, target, reference):
    with pytest.raises(ZhiliError) as err:
        keyness(reports, "year", target=target, reference=reference)
    assert err.value.code == "E052" and "2018, 2019, 2022" in str(err.value)


def test_missing_variable_is_E012(reports):
    with pytest.raises(ZhiliError, match="E012"):
        keyness(reports, "province")


def test_min_count_drops_rare_terms(reports):
    kept = set(keyness(reports, "year", target=2022, min_count=20)["term"])
    assert "崇川区" not in kept and "疫情" in kept


@pytest.mark.parametrize("places", [{"南通", "崇川"}, ["南通市", "崇川区"]])
def test_place_names_can_be_left_out(reports, places):
    with_places = set(keyness(reports, "city", min_count=1)["term"])
    without = set(keyness(reports, "city", min_count=1, exclude_places=places)["term"])
    assert {"南通市", "崇川区"} <= with_places
    assert not ({"南通市", "崇川区"} & without) and "社区" in without


@pytest.mark.parametrize("term, is_place", [
    ("南通", True), ("南通市", True), ("南通市崇川区", True), ("崇川区", True),
    ("南通市区", True), ("社区", False), ("城区", False), ("自治州", False), ("南通人", False), ("示范县", False),
])
def test_place_term_rule(term, is_place):
    assert place_term_mask([term], {"南通", "崇川", "范县"}).tolist() == [is_place]


def test_default_gazetteer_is_the_lexicon():
    mask = place_term_mask(["南通", "山西", "赣州市", "江苏省南通市", "网格化", "社区", "城市", "开发区"])
    assert mask.tolist() == [True, True, True, True, False, False, False, False]


def test_chi2_measure_orders_by_chi2():
    t = keyness_table(np.array([30.0, 5, 65]), np.array([10.0, 40, 150]), np.array(["甲", "乙", "丙"]),
                      min_count=1, measure="chi2")
    assert t["chi2"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="measure"):
        keyness(DTM(sp.csr_matrix(np.ones((2, 1))), np.array(["甲"]), pd.DataFrame({"doc_id": ["a", "b"], "g": [1, 2]})),
                "g", measure="pmi")


def test_national_reports_2022_are_marked_by_the_epidemic(shared_data):
    """Face validity on real data: 疫情 among the ten strongest key terms of the 2022 report,
    五年计划 and 合作社 among the fifteen strongest of the 1950s."""
    from zhili.corpus import corpus
    from zhili.dtm import dtm
    from zhili.tokens import tokens

    c = corpus(shared_data("gov_work_reports") / "docs.jsonl.gz", id_col="id")
    national = c.subset(c.docs["level"] == "national")
    d = dtm(tokens(national, cache=False))
    d.docvars["decade"] = d.docvars["year"] // 10 * 10
    top2022 = keyness(d, "year", target=2022).head(10)["term"].tolist()
    assert "疫情" in top2022
    top1950s = keyness(d, "decade", target=1950).head(15)["term"].tolist()
    assert {"五年计划", "合作社"} <= set(top1950s)


def test_place_exclusion_drops_regional_names_and_self_references():
    vocab = ["三湘", "湖湘", "三晋", "汾河", "鄱阳湖", "我区", "全省", "全市", "自治区", "网格化", "乡村振兴"]
    assert place_term_mask(vocab).tolist() == [True] * 9 + [False, False]
