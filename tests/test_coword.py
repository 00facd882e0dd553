"""Co-word networks: Ochiai on a toy, windows, GraphML round-trip, deterministic clusters."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from zhili.coword import coword
from zhili.dtm import DTM
from zhili.errors import ZhiliError
from zhili.tokens import Tokens

# Two themes that never meet: grid management and the economy; 平安 bridges them once.
SENTENCES = [
    "网格 网格员 走访", "网格 网格员 走访", "网格 网格员", "网格 走访 平安",
    "经济 增长 投资", "经济 增长 投资", "经济 投资", "经济 增长 平安",
]


def toy_tokens(unit: str = "sentence", doc_ids: list[str] | None = None) -> Tokens:
    lists = [s.split() for s in SENTENCES]
    vocab = list(dict.fromkeys(t for ts in lists for t in ts))
    index = {t: i for i, t in enumerate(vocab)}
    ids = [np.array([index[t] for t in ts], dtype=np.int32) for ts in lists]
    doc_ids = doc_ids or [f"s{i}" for i in range(len(lists))]
    dv = pd.DataFrame({"doc_id": doc_ids, "position": range(1, len(lists) + 1)})
    return Tokens(vocab, ids, dv, {"unit": unit})


def test_ochiai_on_a_toy():
    net = coword(toy_tokens(), n_terms=20, min_cooc=1)
    edge = net.edges.set_index(["source", "target"]).loc[("网格", "网格员")]
    assert edge["cooc"] == 3 and edge["ochiai"] == pytest.approx(3 / math.sqrt(4 * 3))
    bridge = net.edges[(net.edges[["source", "target"]] == "平安").any(axis=1)]
    assert len(bridge) == 4 and (bridge["cooc"] == 1).all()
    assert (net.edges["weight"] == net.edges["ochiai"]).all()
    nodes = net.nodes.set_index("term")
    assert nodes.loc["网格", "count"] == 4 and nodes.loc["网格", "doc_count"] == 4
    assert nodes.loc["网格", "degree"] == 3  # 网格员, 走访, 平安


@pytest.mark.parametrize("min_cooc, n_edges", [(1, 10), (2, 6), (3, 4), (4, 0)])
def test_min_cooc_drops_weak_edges(min_cooc, n_edges):
    assert len(coword(toy_tokens(), min_cooc=min_cooc).edges) == n_edges


def test_n_terms_keeps_the_most_frequent():
    net = coword(toy_tokens(), n_terms=2, min_cooc=1)
    assert net.nodes["term"].tolist() == ["网格", "经济"] and net.edges.empty


def test_clusters_separate_the_two_themes_and_are_deterministic():
    first = coword(toy_tokens(), min_cooc=2)
    clusters = first.nodes.set_index("term")["cluster"]
    assert clusters["网格"] == clusters["网格员"] == clusters["走访"]
    assert clusters["经济"] == clusters["增长"] == clusters["投资"] != clusters["网格"]
    for seed in (42, 42, 7):
        again = coword(toy_tokens(), min_cooc=2, random_state=seed)
        pd.testing.assert_frame_equal(first.nodes[first.nodes["degree"] > 0], again.nodes[again.nodes["degree"] > 0])


def test_graphml_round_trip(tmp_path):
    net = coword(toy_tokens(), min_cooc=1)
    path = net.write_graphml(tmp_path / "out" / "coword.graphml")
    back = nx.read_graphml(path)
    assert set(back.nodes) == set(net.nodes["term"]) and back.number_of_edges() == len(net.edges)
    assert back.nodes["网格"]["count"] == 4 and back.nodes["网格"]["label"] == "网格"
    assert back.nodes["网格"]["cluster"] == int(net.nodes.set_index("term").loc["网格", "cluster"])
    assert back.edges["网格", "网格员"]["ochiai"] == pytest.approx(3 / math.sqrt(12))


def test_document_window_joins_the_units_of_a_document():
    toks = toy_tokens(unit="sentence", doc_ids=["a"] * 4 + ["b"] * 4)
    net = coword(toks, window="document", min_cooc=1)
    edge = net.edges.set_index(["source", "target"]).loc[("网格", "网格员")]
    assert edge["cooc"] == 1 and edge["ochiai"] == pytest.approx(1.0)
    assert net.nodes.set_index("term").loc["平安", "doc_count"] == 2


@pytest.mark.parametrize("unit, window", [("paragraph", "sentence"), ("document", "sentence"), ("sentence", "line")])
def test_window_must_match_the_units(unit, window):
    with pytest.raises(ZhiliError) as err:
        coword(toy_tokens(unit=unit), window=window)
    assert window in str(err.value) and "reshape" in str(err.value)


def test_a_hand_built_dtm_is_taken_as_it_is():
    m = sp.csr_matrix(np.array([[1, 1], [1, 1], [1, 0]]))
    d = DTM(m, np.array(["网格", "治理"], dtype=object), pd.DataFrame({"doc_id": ["a", "b", "c"]}))
    net = coword(d, window="sentence", min_cooc=1)
    assert net.edges[["source", "target", "cooc"]].values.tolist() == [["网格", "治理", 2]]


def test_sentence_window_on_segmented_sentences():
    from zhili.corpus import corpus_from_texts
    from zhili.tokens import tokens

    text = "推进网格化管理，加强网格员队伍建设。化解矛盾纠纷，推进网格化管理。化解矛盾纠纷，维护社会稳定。"
    sentences = tokens(corpus_from_texts([text]).reshape("sentence"), cache=False)
    net = coword(sentences, window="sentence", min_cooc=1)
    strongest = net.edges.iloc[0]
    assert {strongest["source"], strongest["target"]} == {"化解", "矛盾纠纷"} and strongest["cooc"] == 2
    with pytest.raises(ZhiliError, match="reshape"):
        coword(tokens(corpus_from_texts([text]).reshape("paragraph"), cache=False), window="sentence")


@pytest.mark.parametrize("backbone, max_density", [("disparity", 0.1), ("top_k", 0.3)])
def test_backbone_keeps_a_dense_network_readable(backbone, max_density):
    """Forty frequent terms that all co-occur somewhere: the full graph is complete; the
    backbone keeps the strong ties of two themes, and the clusters follow the themes."""
    rng = np.random.default_rng(0)
    themes = [[f"甲{i}" for i in range(20)], [f"乙{i}" for i in range(20)]]
    rows = []
    for d in range(300):
        own = themes[d % 2]
        rows.append(list(rng.choice(own, size=12)) + list(rng.choice(themes[1 - d % 2], size=2)))
    vocab = np.array(themes[0] + themes[1], dtype=object)
    index = {t: i for i, t in enumerate(vocab)}
    m = sp.lil_matrix((len(rows), len(vocab)), dtype=np.int64)
    for r, words in enumerate(rows):
        for w in words:
            m[r, index[w]] += 1
    d = DTM(m.tocsr(), vocab, pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(rows))]}))
    full = coword(d, n_terms=40, backbone=None)
    net = coword(d, n_terms=40, backbone=backbone)
    assert full.params["density"] > 0.9 and net.params["density"] < max_density
    assert net.params["backbone"] == backbone and net.params["n_edges_before"] == len(full.edges)
    purity = net.nodes.groupby("cluster")["term"].agg(lambda t: t.str[0].value_counts().iloc[0] / len(t))
    assert net.nodes["cluster"].nunique() >= 2 and (purity == 1).all()  # clusters differ: each is one theme's
    assert (net.nodes["degree"] > 0).all()  # every term keeps at least its strongest tie


def test_unknown_backbone_is_E024():
    with pytest.raises(ZhiliError, match="E024.*backbone"):
        coword(toy_tokens(), backbone="mst")
