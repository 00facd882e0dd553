"""Co-word networks: which frequent terms appear in the same document (or sentence).

Two terms co-occur when both are in one window. The Ochiai coefficient
``cooc / sqrt(df_a * df_b)`` (``df`` = windows containing the term) normalises the raw
count so frequent terms do not link to everything. Among many frequent terms nearly every
pair co-occurs somewhere, so the network keeps only its backbone: the disparity filter
(Serrano, Boguñá & Vespignani 2009) keeps an edge when its Ochiai weight is a significant
share (``alpha``) of at least one endpoint's strength, plus each node's strongest edge;
``backbone='top_k'`` keeps each node's ``top_k`` strongest edges instead, ``None`` all.
Networks of fewer than ``BACKBONE_MIN_NODES`` terms are kept whole. The settings and the
density before and after are in ``network.params`` (for the manifest). Clusters come from
Louvain community detection with a fixed seed, so the same input always gives the same
clusters.

>>> import scipy.sparse as sp
>>> from zhili.dtm import DTM
>>> m = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]]))
>>> d = DTM(m, np.array(["网格", "治理", "法治"], dtype=object), pd.DataFrame({"doc_id": list("abcd")}))
>>> net = coword(d, n_terms=3, min_cooc=1)
>>> net.edges[["source", "target", "cooc"]].values.tolist()
[['网格', '治理', 2], ['网格', '法治', 1]]
>>> round(float(net.edges["ochiai"].iloc[0]), 3)  # 2 / sqrt(3 * 2)
0.816
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .dtm import DTM, dtm, dtm_group, matrix_sums
from .errors import E, ZhiliError
from .tokens import Tokens

WINDOWS = ("document", "paragraph", "sentence")
BACKBONES = ("disparity", "top_k", None)
BACKBONE_MIN_NODES = 20


@dataclass
class CowordNetwork:
    """``nodes``: term, count, doc_count (windows containing it), cluster (1 = largest), degree.
    ``edges``: source, target, cooc (windows with both), ochiai, weight (= ochiai, for plotting).
    ``graph``: the same as a :class:`networkx.Graph`. ``params``: the settings, the
    number of edges and the density before and after the backbone (for the manifest).
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    graph: nx.Graph
    params: dict = field(default_factory=dict)

    def write_graphml(self, path: str | Path) -> Path:
        """Write the network as GraphML (opens in Gephi, Cytoscape, R igraph)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        nx.write_graphml(self.graph, path, encoding="utf-8")
        return path


def coword(data: DTM | Tokens, n_terms: int = 100, window: str = "document", min_cooc: int = 2,
           random_state: int = 42, backbone: str | None = "disparity", alpha: float = 0.05,
           top_k: int = 5) -> CowordNetwork:
    """Co-word network of the ``n_terms`` most frequent terms.

    ``window='document'`` joins units of the same ``doc_id`` first; ``'paragraph'`` or
    ``'sentence'`` counts each unit as a window and needs units of that kind (tokens built
    from ``corpus.reshape('sentence')``; a DTM built by hand is taken as it is). Edges
    need at least ``min_cooc`` shared windows; then the ``backbone`` (``'disparity'`` at
    significance ``alpha``, ``'top_k'`` strongest edges per node, or ``None``) is kept.
    """
    if backbone not in BACKBONES:
        raise ZhiliError(E.E024, what="co-word backbone", value=backbone, available="disparity, top_k, None")
    if window not in WINDOWS:
        raise ZhiliError(E.E055, window=window, unit=data.meta.get("unit", "unknown"))
    d = dtm(data) if isinstance(data, Tokens) else data
    unit = d.meta.get("unit")
    if window == "document":
        if "doc_id" in d.docvars and d.docvars["doc_id"].duplicated().any():
            d = dtm_group(d, "doc_id")
    elif unit is not None and unit != window:
        raise ZhiliError(E.E055, window=window, unit=unit)
    counts = matrix_sums(d.matrix, axis=0)
    ranked = np.lexsort((np.arange(len(counts)), -counts))
    top = ranked[:n_terms][counts[ranked[:n_terms]] > 0]
    present = (d.matrix[:, top] > 0).astype(np.int64).tocsc()
    cooc = (present.T @ present).toarray()
    doc_count = np.diag(cooc).copy()
    ochiai = cooc / np.sqrt(np.outer(doc_count, doc_count))
    terms = [str(t) for t in d.vocabulary[top]]

    graph = nx.Graph()
    for term, count, df in zip(terms, counts[top], doc_count):
        graph.add_node(term, label=term, count=int(count), doc_count=int(df))
    linked = np.triu(cooc >= max(min_cooc, 1), k=1)
    n_before = int(linked.sum())
    if backbone is not None and len(top) >= BACKBONE_MIN_NODES:
        linked &= np.triu(backbone_mask(np.where(linked | linked.T, ochiai, 0.0), backbone, alpha, top_k), k=1)
    rows, cols = np.nonzero(linked)
    for i, j in zip(rows, cols):
        graph.add_edge(terms[i], terms[j], cooc=int(cooc[i, j]), ochiai=float(ochiai[i, j]), weight=float(ochiai[i, j]))
    clusters = _clusters(graph, terms, random_state)
    for term in terms:
        graph.nodes[term]["cluster"] = clusters[term]
        graph.nodes[term]["degree"] = int(graph.degree[term])

    nodes = pd.DataFrame({"term": terms, "count": counts[top].astype(np.int64), "doc_count": doc_count.astype(np.int64),
                          "cluster": [clusters[t] for t in terms], "degree": [graph.degree[t] for t in terms]})
    edges = pd.DataFrame({"source": [terms[i] for i in rows], "target": [terms[j] for j in cols],
                          "cooc": cooc[rows, cols].astype(np.int64), "ochiai": ochiai[rows, cols],
                          "weight": ochiai[rows, cols]})
    edges = edges.sort_values(["cooc", "ochiai"], ascending=False, kind="stable").reset_index(drop=True)
    pairs = max(len(terms) * (len(terms) - 1) / 2, 1)
    params = {"n_terms": n_terms, "window": window, "min_cooc": min_cooc, "measure": "ochiai",
              "backbone": backbone if len(top) >= BACKBONE_MIN_NODES else None,
              "alpha": alpha if backbone == "disparity" else None, "top_k": top_k if backbone == "top_k" else None,
              "n_edges_before": n_before, "n_edges": int(len(edges)), "density_before": round(n_before / pairs, 4),
              "density": round(len(edges) / pairs, 4), "n_clusters": int(len(set(clusters.values())))}
    return CowordNetwork(nodes, edges, graph, params)


def backbone_mask(weights: np.ndarray, method: str = "disparity", alpha: float = 0.05, top_k: int = 5) -> np.ndarray:
    """Symmetric boolean mask of the edges to keep from a symmetric weight matrix (0 = no edge).

    ``'disparity'``: edge (i, j) is kept when ``(1 - w_ij / s_i) ** (k_i - 1) < alpha`` for
    i or j (``s`` strength, ``k`` degree), and every node keeps its strongest edge.
    ``'top_k'``: every node's ``top_k`` strongest edges.

    >>> w = np.array([[0, 5, 1, 1], [5, 0, 1, 1], [1, 1, 0, 4], [1, 1, 4, 0]], dtype=float)
    >>> backbone_mask(w, "top_k", top_k=1).astype(int).tolist()
    [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]
    """
    w = np.where(np.eye(len(weights), dtype=bool), 0.0, np.asarray(weights, dtype=float))
    present = w > 0
    strongest = np.zeros_like(present)
    has = present.any(axis=1)
    strongest[np.flatnonzero(has), w.argmax(axis=1)[has]] = True
    if method == "top_k":
        order = np.argsort(-w, axis=1, kind="stable")[:, :top_k]
        keep = np.zeros_like(present)
        np.put_along_axis(keep, order, True, axis=1)
        keep &= present
    else:
        strength = w.sum(axis=1, keepdims=True)
        degree = present.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(strength > 0, w / strength, 0.0)
            significance = np.where(present, (1 - share) ** np.maximum(degree - 1, 0), 1.0)
        keep = present & (significance < alpha)
    keep |= strongest
    return keep | keep.T


def _clusters(graph: nx.Graph, terms: list[str], random_state: int) -> dict[str, int]:
    """Louvain communities numbered 1, 2, … by size, ties by their most frequent term."""
    rank = {t: i for i, t in enumerate(terms)}
    communities = nx.community.louvain_communities(graph, weight="ochiai", seed=random_state)
    ordered = sorted(communities, key=lambda c: (-len(c), min(rank[t] for t in c)))
    return {t: number for number, community in enumerate(ordered, start=1) for t in community}
