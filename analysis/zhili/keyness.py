"""Keyness: which terms a group uses more (or less) than the rest, or than another group.

For every term, a 2 x 2 table (this term / all other terms x group / reference) gives the
log-likelihood G² and Pearson's chi² (1 degree of freedom, no continuity correction),
signed negative when the group uses the term less. ``log_ratio`` is an effect size:
log2 of the ratio of relative frequencies, with 0.5 added to both counts so a zero is
finite (Hardie's Log Ratio; 1 = twice as frequent). p-values are adjusted by
Benjamini-Hochberg over the terms of each comparison.

>>> import scipy.sparse as sp
>>> from zhili.dtm import DTM
>>> m = sp.csr_matrix(np.array([[30, 5, 10], [2, 20, 10], [1, 25, 10]]))
>>> d = DTM(m, np.array(["疫情", "改革", "发展"], dtype=object),
...         pd.DataFrame({"doc_id": ["a", "b", "c"], "year": [2022, 2019, 2018]}))
>>> k = keyness(d, "year", target=2022, min_count=1)
>>> k[["group", "term", "count_group", "count_rest"]].values.tolist()[0]
[2022, '疫情', 30, 3]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import chi2 as chi2_distribution
from scipy.stats import false_discovery_control

from .dtm import DTM
from .grouping import group_labels, indicator, sorted_values
from .errors import E, ZhiliError

PLACE_SUFFIXES = ("省", "市", "县", "区", "州")
MEASURES = ("g2", "chi2")
COLUMNS = ["by", "group", "reference", "term", "g2", "chi2", "log_ratio", "p", "p_adj",
           "count_group", "count_rest", "rate_group", "rate_rest"]


def keyness(d: DTM, by: str | Sequence[str], target: object = None, reference: object = None,
            measure: str = "g2", min_count: int = 5, exclude_places: bool | Iterable[str] = False) -> pd.DataFrame:
    """Key terms of each group of ``by`` against the rest, of ``target`` against the rest,
    or of ``target`` against ``reference`` (a value or a list of values).

    ``min_count`` drops terms seen fewer times in the two sides together. ``measure``
    (``'g2'`` or ``'chi2'``) orders the rows and gives ``p``. ``exclude_places=True`` leaves
    out place names (:func:`zhili.lexicon.excluded_places`: the gazetteer, regional names and
    self-references like 全省; and terms ending in 省/市/县/区/州
    made of them, e.g. 南通市崇川区; see :func:`place_term_mask`); pass your own names
    instead of True to use them.

    Returns one row per group and term: ``by, group, reference`` ('rest' or the reference
    values), ``term, g2, chi2, log_ratio, p, p_adj, count_group, count_rest, rate_group,
    rate_rest`` (rates per million tokens), over-used terms first (largest ``measure``),
    under-used (negative) terms last.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}; got {measure!r}")
    name, labels = group_labels(d.docvars, by, what="keyness")
    values = sorted_values(labels)
    comparisons = _comparisons(values, target, reference, name)
    matrix, vocabulary = d.matrix.tocsr(), np.asarray(d.vocabulary, dtype=object)
    if exclude_places is not False:
        keep = ~place_term_mask(vocabulary, None if exclude_places is True else exclude_places)
        matrix, vocabulary = matrix[:, np.flatnonzero(keep)], vocabulary[keep]
    code = {v: i for i, v in enumerate(values)}
    codes = np.array([-1 if v is None else code[v] for v in labels], dtype=np.int64)
    sums = np.asarray((indicator(codes, len(values)) @ matrix).todense(), dtype=float)  # groups x terms
    parts = []
    for group, refs in comparisons:
        a = sums[code[group]]
        b = sums[[code[r] for r in refs]].sum(axis=0)
        table = keyness_table(a, b, vocabulary, min_count, measure)
        table.insert(0, "reference", "rest" if reference is None else "|".join(map(str, refs)))
        table.insert(0, "group", pd.Series([group] * len(table), dtype=object))
        table.insert(0, "by", name)
        parts.append(table)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    out.attrs.update(measure=measure, min_count=min_count, exclude_places=exclude_places is not False)
    return out


def _comparisons(values: list, target: object, reference: object, var: str) -> list[tuple[object, list]]:
    """(group, reference values) pairs; E052 for a target or reference that is not a value."""
    def check(value: object) -> object:
        match = [v for v in values if v == value or str(v) == str(value)]
        if not match:
            shown = ", ".join(map(str, values[:30])) + (" …" if len(values) > 30 else "")
            raise ZhiliError(E.E052, target=value, var=var, available=shown)
        return match[0]

    if target is None:
        if reference is not None:
            raise ValueError("reference= needs a target=")
        return [(v, [w for w in values if w != v]) for v in values]
    group = check(target)
    if reference is None:
        return [(group, [w for w in values if w != group])]
    refs = [check(r) for r in (reference if isinstance(reference, (list, tuple, set)) else [reference])]
    return [(group, refs)]


def keyness_table(a: np.ndarray, b: np.ndarray, vocabulary: np.ndarray, min_count: int = 5,
                  measure: str = "g2") -> pd.DataFrame:
    """Keyness of every term from its counts ``a`` in the group and ``b`` in the reference.

    >>> t = keyness_table(np.array([10.0, 90.0]), np.array([5.0, 195.0]), np.array(["甲", "乙"]), min_count=1)
    >>> round(float(t.loc[t["term"] == "甲", "g2"].iloc[0]), 3)
    7.33
    """
    n1, n2 = a.sum(), b.sum()
    keep = np.flatnonzero(a + b >= max(min_count, 1))
    a, b, terms = a[keep], b[keep], vocabulary[keep]
    g2, chi2 = signed_g2_chi2(a, b, n1, n2)
    score = g2 if measure == "g2" else chi2
    p = chi2_distribution.sf(np.abs(score), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({
            "term": terms, "g2": g2, "chi2": chi2,
            "log_ratio": np.log2(((a + 0.5) / n1) / ((b + 0.5) / n2)),
            "p": p, "p_adj": benjamini_hochberg(p),
            "count_group": a.astype(np.int64), "count_rest": b.astype(np.int64),
            "rate_group": a / n1 * 1e6 if n1 else np.nan, "rate_rest": b / n2 * 1e6 if n2 else np.nan,
        })
    order = np.lexsort((table["term"].astype(str).to_numpy(), -table[measure].to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def signed_g2_chi2(a: np.ndarray, b: np.ndarray, n1: float, n2: float) -> tuple[np.ndarray, np.ndarray]:
    """G² and chi² of the 2 x 2 tables [[a, b], [n1 - a, n2 - b]], negative where a/n1 < b/n2."""
    observed = np.stack([a, b, n1 - a, n2 - b])
    total = n1 + n2
    rows = np.stack([a + b, a + b, total - a - b, total - a - b])
    cols = np.array([n1, n2, n1, n2])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = rows * cols / total
        g2 = 2 * np.where(observed > 0, observed * np.log(observed / expected), 0.0).sum(axis=0)
        chi2 = np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0).sum(axis=0)
        sign = np.where(a * n2 < b * n1, -1.0, 1.0)
    return sign * np.maximum(g2, 0), sign * chi2


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order
    (scipy's :func:`~scipy.stats.false_discovery_control`).

    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p
    return false_discovery_control(p, method="bh")


def place_term_mask(vocabulary: Sequence[str], places: Iterable[str] | None = None) -> np.ndarray:
    """True for place names, and for terms ending in 省/市/县/区/州 that are made of place
    names (南通市崇川区 = 南通市 + 崇川区; 南通市区 = 南通市 + 区). A term that merely contains
    one (示范县 contains the county 范县) is kept. ``places`` defaults to
    :func:`zhili.lexicon.excluded_places`: the gazetteer, regional names (三湘, 三晋, 汾河) and
    self-references (全省, 我市, 自治区).

    >>> place_term_mask(["南通市", "南通", "社区", "网格化", "崇川区", "示范县"], {"南通", "崇川", "范县"}).tolist()
    [True, True, False, False, True, False]
    """
    if places is None:
        from .lexicon import excluded_places

        places = excluded_places()
    gazetteer = frozenset(p for p in places if len(p) >= 2)
    return np.array([_is_place(str(t), gazetteer) for t in vocabulary], dtype=bool)


def _is_place(term: str, gazetteer: frozenset[str]) -> bool:
    if term in gazetteer:
        return True
    if not term.endswith(PLACE_SUFFIXES):
        return False
    # made[i]: term[:i] is a sequence of place names, each maybe followed by suffix characters
    made = [True] + [False] * len(term)
    for end in range(2, len(term) + 1):
        made[end] = (term[end - 1] in PLACE_SUFFIXES and made[end - 1]) or any(
            made[start] and term[start:end] in gazetteer for start in range(end - 1))
    return made[len(term)]
