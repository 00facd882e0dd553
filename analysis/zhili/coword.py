"""Co-word networks: which frequent terms appear in the same document (or sentence).

Two terms co-occur when both are in one window. The Ochiai coefficient
``cooc / sqrt(df_a * df_b)`` (``df`` = windows containing the term) normalises the raw
count so frequent terms do not link to everything. Clusters come from Louvain community
detection with a fixed seed, so the same input always gives the same clusters.

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

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .dtm import DTM, dtm, dtm_group
from .errors import E, ZhiliError
from .tokens import Tokens

WINDOWS = ("document", "paragraph", "sentence")


@dataclass
class CowordNetwork:
    """``nodes``: term, count, doc_count (windows containing it), cluster (1 = largest), degree.
    ``edges``: source, target, cooc (windows with both), ochiai, weight (= ochiai, for plotting).
    ``graph``: the same as a :class:`networkx.Graph`.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    graph: nx.Graph

    def write_graphml(self, path: str | Path) -> Path:
        """Write the network as GraphML (opens in Gephi, Cytoscape, R igraph)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        nx.write_graphml(self.graph, path, encoding="utf-8")
        return path


def coword(data: DTM | Tokens, n_terms: int = 100, window: str = "document", min_cooc: int = 2,
           random_state: int = 42) -> CowordNetwork:
    """Co-word network of the ``n_terms`` most frequent terms.

    ``window='document'`` joins units of the same ``doc_id`` first; ``'paragraph'`` or
    ``'sentence'`` counts each unit as a window and needs units of that kind (tokens built
    from ``corpus.reshape('sentence')``; a DTM built by hand is taken as it is). Edges
    need at least ``min_cooc`` shared windows.
    """
    if window not in WINDOWS:
        raise ZhiliError(E.E055, window=window, unit=data.meta.get("unit", "unknown"))
    d = dtm(data) if isinstance(data, Tokens) else data
    unit = d.meta.get("unit")
    if window == "document":
        if "doc_id" in d.docvars and d.docvars["doc_id"].duplicated().any():
            d = dtm_group(d, "doc_id")
    elif unit is not None and unit != window:
        raise ZhiliError(E.E055, window=window, unit=unit)
    counts = np.asarray(d.matrix.sum(axis=0)).ravel()
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
    rows, cols = np.nonzero(np.triu(cooc >= max(min_cooc, 1), k=1))
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
    return CowordNetwork(nodes, edges, graph)


def _clusters(graph: nx.Graph, terms: list[str], random_state: int) -> dict[str, int]:
    """Louvain communities numbered 1, 2, … by size, ties by their most frequent term."""
    rank = {t: i for i, t in enumerate(terms)}
    communities = nx.community.louvain_communities(graph, weight="ochiai", seed=random_state)
    ordered = sorted(communities, key=lambda c: (-len(c), min(rank[t] for t in c)))
    return {t: number for number, community in enumerate(ordered, start=1) for t in community}
