"""Grouping units by document variables: one place for every comparison (keyness, topic
prevalence, trends, dictionary coding).

A grouping variable is named ``by`` everywhere. Missing values (pandas NA, ``None``, NaN,
blank text) never form a group: the documents without a value are counted and reported
with a :class:`~zhili.errors.ZhiliWarning` ("3 of 40 documents have no year; left out of
topic trends"); a variable that is empty for every document is E050, an unknown one E012.

>>> dv = pd.DataFrame({"doc_id": ["a", "b", "c"], "city": ["南通市", None, "苏州市"]})
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     g = make_grouping(dv, "city", what="keyness")
>>> g.values, g.unit_group.tolist()
(['南通市', '苏州市'], [0, -1, 1])
>>> print(caught[0].message)
[W140] 1 of 3 documents have no city; left out of keyness.
>>> indicator(g).toarray().tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import E, W, ZhiliError, ZhiliWarning, warning_text

COMBINE = "×"  # joins variable names: by=['city', 'year'] is reported as 'city×year'
JOIN = "|"  # joins values: group '南通市|2019'
MISSING_TEXT = ("nan", "NaN", "None", "<NA>", "NaT")  # text left by a str() of a missing value: never a group


@dataclass(frozen=True)
class Grouping:
    """Which group each unit belongs to, and which document ("cluster") within its group.

    A group with a single document (one report per year) resamples that document's units
    instead, so its interval still carries within-document variation.

    ``unit_group`` is -1 for units whose variable is empty (they are left out).
    """

    name: str
    values: list
    unit_group: np.ndarray
    unit_cluster: np.ndarray
    cluster_group: np.ndarray
    n_docs: np.ndarray
    n_units: np.ndarray
    n_docs_left_out: int
    n_clusters: np.ndarray  # resampled per group: its documents, or a lone document's units


def require_docvars(docvars: pd.DataFrame, by: str | Sequence[str]) -> list[str]:
    """The grouping variables as a list, or E012 naming what is available.

    >>> require_docvars(pd.DataFrame({"doc_id": ["a"], "city": ["南通"]}), "city")
    ['city']
    """
    if isinstance(by, str):
        by = [by]
    elif isinstance(by, Sequence):
        by = list(by)
    else:
        raise ZhiliError(E.E140, by=repr(by))
    if not by:
        raise ZhiliError(E.E140, by="an empty list")
    for var in by:
        if not isinstance(var, str):
            raise ZhiliError(E.E140, by=repr(var))
        if var not in docvars.columns:
            available = ", ".join(str(c) for c in docvars.columns if c != "text")
            raise ZhiliError(E.E012, var=var, available=available or "(none)")
    return by


def doc_ids(docvars: pd.DataFrame) -> np.ndarray:
    """Each unit's document id as text (row numbers when there is no ``doc_id`` column)."""
    if "doc_id" in docvars:
        return docvars["doc_id"].astype(str).to_numpy()
    return np.arange(len(docvars)).astype(str)


def is_empty(column: pd.Series) -> np.ndarray:
    """True where a value is missing: NA/None/NaN, or text that is blank (or 'nan', 'None')."""
    missing = column.isna().to_numpy()
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        text = column.astype(str).str.strip()
        missing = missing | (text.eq("") | text.isin(MISSING_TEXT)).to_numpy()
    return missing


def plain(value: object) -> object:
    """Numpy and pandas scalars to plain Python; whole floats (2019.0) to int; NA to None."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and np.isnan(value):
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def sorted_values(values: Sequence) -> list:
    """Distinct values in natural order (numbers numerically, otherwise as text).

    >>> sorted_values([2020, None, 2019, 2020])
    [2019, 2020]
    """
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=str)


def warn_left_out(n_out: int, n_docs: int, what_missing: str, what: str, stacklevel: int = 3) -> None:
    """The warning every consumer gives for documents without a value."""
    warnings.warn(warning_text(W.W140, n_out=n_out, n=n_docs, var=what_missing, what=what), ZhiliWarning,
                  stacklevel=stacklevel + 1)


def group_labels(docvars: pd.DataFrame, by: str | Sequence[str],
                 what: str = "this comparison") -> tuple[str, pd.Series]:
    """The grouping's name and each unit's group (``None`` where a variable is empty).

    One variable keeps its values (years stay numbers); a combination is named
    ``'city×year'`` and its groups are strings like ``'南通市|2019'``. A variable that does
    not exist raises E012; one that is empty for every document, E050. Documents left out
    for an empty value are counted in a :class:`ZhiliWarning` naming ``what`` they are left
    out of.

    >>> dv = pd.DataFrame({"doc_id": ["a", "b"], "city": ["南通市", "苏州市"], "year": [2019, 2020]})
    >>> name, labels = group_labels(dv, ["city", "year"])
    >>> name, labels.tolist()
    ('city×year', ['南通市|2019', '苏州市|2020'])
    """
    by = require_docvars(docvars, by)
    ids = doc_ids(docvars)
    n_docs = len(set(ids))
    missing = np.zeros(len(docvars), dtype=bool)
    for var in by:
        empty = is_empty(docvars[var])
        if len(docvars) and empty.all():
            raise ZhiliError(E.E050, var=var, n_missing=n_docs, n=n_docs)
        missing |= empty
    if missing.any():
        n_out = len(set(ids[missing]) - set(ids[~missing]))
        if n_out:
            warn_left_out(n_out, n_docs, " or ".join(by), what)
    columns = [np.array([plain(v) for v in docvars[var]], dtype=object) for var in by]  # map() would re-infer floats
    if len(by) == 1:
        labels = columns[0]
    else:
        labels = np.array([JOIN.join(map(str, row)) for row in zip(*columns)], dtype=object)
    labels = pd.Series(labels, index=docvars.index, dtype=object)
    labels[missing] = None
    return COMBINE.join(by), labels


def make_grouping(docvars: pd.DataFrame, by: str | Sequence[str], labels: pd.Series | None = None,
                  values: list | None = None, what: str = "this comparison",
                  keep: np.ndarray | None = None) -> Grouping:
    """Group codes per unit and cluster (document) codes for the bootstrap.

    ``labels`` (one per unit, ``None`` = no group) and ``values`` (their order) replace the
    values of ``by`` when given. Units where ``keep`` is False are in no group.
    """
    if labels is None:
        name, labels = group_labels(docvars, by, what=what)
    else:
        name = COMBINE.join(require_docvars(docvars, by))
    if keep is not None:
        labels = pd.Series([v if k else None for v, k in zip(labels, keep)], dtype=object)
    values = sorted_values(labels) if values is None else list(values)
    code = {v: i for i, v in enumerate(values)}
    unit_group = np.array([-1 if v is None else code[v] for v in labels], dtype=np.int64)
    ids = doc_ids(docvars)
    keep = unit_group >= 0
    docs_of = pd.MultiIndex.from_arrays([unit_group[keep], ids[keep]]).unique().get_level_values(0)
    n_docs = np.bincount(docs_of.to_numpy().astype(np.int64), minlength=len(values))
    lone = np.zeros(len(docvars), dtype=bool)
    lone[keep] = n_docs[unit_group[keep]] == 1
    cluster_key = np.where(lone, np.char.add(ids.astype(str), np.arange(len(docvars)).astype(str)), ids)
    pairs = pd.MultiIndex.from_arrays([unit_group[keep], cluster_key[keep]])
    cluster_codes, clusters = pairs.factorize(sort=True)  # sorted by group, then document
    unit_cluster = np.full(len(docvars), -1, dtype=np.int64)
    unit_cluster[keep] = cluster_codes
    cluster_group = clusters.get_level_values(0).to_numpy().astype(np.int64)
    n_clusters = np.bincount(cluster_group, minlength=len(values))
    n_units = np.bincount(unit_group[keep], minlength=len(values))
    n_out = len(set(ids[~keep]) - set(ids[keep]))
    return Grouping(name, values, unit_group, unit_cluster, cluster_group, n_docs, n_units, n_out, n_clusters)


def indicator(grouping: Grouping | np.ndarray, n_groups: int | None = None) -> sp.csr_matrix:
    """Sparse groups x units matrix with a 1 where the unit belongs to the group (the
    group-sum matrix: ``indicator(g) @ X`` sums the rows of ``X`` by group).

    Takes a :class:`Grouping`, or an array of group codes (-1 = no group) and ``n_groups``.

    >>> indicator(np.array([1, -1, 0, 1]), 2).toarray().tolist()
    [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]]
    """
    if isinstance(grouping, Grouping):
        codes, n_groups = grouping.unit_group, len(grouping.values)
    else:
        codes = np.asarray(grouping, dtype=np.int64)
        n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
    keep = np.flatnonzero(codes >= 0)
    return sp.csr_matrix((np.ones(len(keep)), (codes[keep], keep)), shape=(max(n_groups, 0), len(codes)))


def numeric_years(docvars: pd.DataFrame, var: str = "year") -> pd.Series:
    """``docvars[var]`` as whole years (``Int64``; empty stays empty); E017 names a bad value.

    Already-typed columns (nullable ``Int64`` from :mod:`zhili.docvars`, floats with NaN,
    integers) are taken as they are; text cells (``'2019年'``, ``'二〇一九年'``) are read by
    :func:`zhili.metadata.parse_year`, once per distinct value.

    >>> numeric_years(pd.DataFrame({"doc_id": ["a", "b"], "year": ["2019年", None]})).tolist()
    [2019, <NA>]
    """
    from .metadata import parse_year

    require_docvars(docvars, var)
    column = docvars[var]
    ids = docvars["doc_id"] if "doc_id" in docvars else pd.Series(range(len(docvars)), index=docvars.index)
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = pd.to_numeric(column, errors="coerce").astype("Float64")
        bad = values.notna() & ((values % 1 != 0) | (values < 1000) | (values > 9999))
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy(dtype=bool, na_value=False))[0])
            raise ZhiliError(E.E017, var=var, value=column.iloc[first], doc_id=ids.iloc[first])
        return pd.Series(values.astype("Int64").to_numpy(), index=docvars.index, name=var, dtype="Int64")
    parsed: dict = {}
    years = []
    for value, doc_id in zip(column, ids):
        key = None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) \
            else (type(value), value)
        if key not in parsed:
            try:
                parsed[key] = parse_year(value)
            except ValueError:
                raise ZhiliError(E.E017, var=var, value=value, doc_id=doc_id) from None
        years.append(parsed[key])
    return pd.Series(pd.array(years, dtype="Int64"), index=docvars.index, name=var)


def renamed_by(by: object, old: object, old_name: str, default: object = None, stacklevel: int = 3) -> object:
    """``by`` with a deprecated keyword alias (``time=``, ``year_var=`` …) folded in."""
    if old is None:
        return default if by is None else by
    warnings.warn(f"{old_name}= is deprecated; use by= (the same meaning).", DeprecationWarning,
                  stacklevel=stacklevel)
    if by is not None and by != old:
        raise ValueError(f"give by= or {old_name}=, not both")
    return old
