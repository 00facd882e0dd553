"""Document-term matrices that keep their document variables.

``dtm(tokens)`` counts; ``dtm_trim``, ``dtm_group`` and ``dtm_weight`` return new
matrices; ``term_frequencies`` and ``write_table`` make tidy tables for papers.

>>> from zhili.corpus import corpus_from_texts
>>> from zhili.tokens import tokens
>>> c = corpus_from_texts(["网格化 网格化 平安建设", "平安建设 矛盾纠纷"], docvars={"city": ["南通", "苏州"]})
>>> d = dtm(tokens(c, cache=False))
>>> d.shape, list(d.vocabulary)
((2, 3), ['网格化', '平安建设', '矛盾纠纷'])
>>> dtm_group(d, "city").docvars["city"].tolist()
['南通', '苏州']
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import E, ZhiliError
from .grouping import indicator, require_docvars
from .io import write_table  # noqa: F401 - re-exported: zhili.dtm.write_table stays public
from .tokens import Tokens

if TYPE_CHECKING:
    from .corpus import Corpus


@dataclass
class DTM:
    """A sparse units x terms matrix with ``vocabulary`` and aligned ``docvars``.

    ``weighting`` is ``'count'``, ``'prop'`` or ``'tfidf'``; topic models need counts.
    """

    matrix: sp.csr_matrix
    vocabulary: np.ndarray
    docvars: pd.DataFrame
    weighting: str = "count"
    meta: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def __repr__(self) -> str:
        n, v = self.shape
        return f"DTM({n} units x {v} terms, {self.weighting}, {self.matrix.nnz} non-zero)"

    @property
    def doc_ids(self) -> list[str]:
        return self.docvars["doc_id"].astype(str).tolist()

    def to_pandas(self, long: bool = False) -> pd.DataFrame:
        """Wide (units x terms, doc_id as index) or long (doc_id, [position], term, value)."""
        if not long:
            return pd.DataFrame.sparse.from_spmatrix(self.matrix, index=self.doc_ids, columns=self.vocabulary)
        coo = self.matrix.tocoo()
        keys = [c for c in ("doc_id", "position") if c in self.docvars.columns]
        out = self.docvars[keys].iloc[coo.row].reset_index(drop=True)
        out["term"] = self.vocabulary[coo.col]
        out[self.weighting] = coo.data
        return out

    def write(self, path: str | Path) -> Path:
        """The long table (non-zero cells) as .csv (UTF-8 with BOM), .parquet or .xlsx."""
        return write_table(self.to_pandas(long=True), path)


def dtm(toks: Tokens) -> DTM:
    """Count tokens into a sparse matrix (one row per unit of ``toks``)."""
    n_terms = len(toks.vocab)
    spool = _Spool()
    for a in range(0, len(toks.ids), COUNT_ROWS):
        spool.add(_count_rows(toks.ids[a:a + COUNT_ROWS], n_terms))
    return DTM(spool.matrix(n_terms), np.array(toks.vocab, dtype=object),
               toks.docvars.reset_index(drop=True), "count", dict(toks.meta))


#: Units counted together by :func:`dtm`: only their tokens are copied at once, not the corpus'.
COUNT_ROWS = 2_000
#: The type of counts: a cell holds one term's count in one unit (sums are taken in int64).
COUNT_DTYPE = np.int32
#: Shards each process segments per round in :func:`dtm_counted` (about 6 M characters).
ROUND_SHARDS = 64


def dtm_counted(corpus: Corpus, *, n_jobs: int = 1, progress: bool | None = None, client: Any = None,
                **token_args: Any) -> DTM:
    """``dtm(tokens(corpus, **token_args))``, counted round by round without ever holding the
    corpus' tokens: memory grows with the counts, not with the tokens or the texts (read from a
    spilled corpus' store shard by shard). The same matrix, vocabulary order and ``meta`` (tested);
    the counts are cached beside the tokens' final entry. A POS filter, which decides token by
    token, goes through :func:`~zhili.tokens.tokens` whole.

    >>> from zhili.corpus import corpus_from_texts
    >>> d = dtm_counted(corpus_from_texts(["推进网格化管理", "网格化"]), cache=False)
    >>> list(d.vocabulary), d.matrix.toarray().tolist()  # synonyms merged: 网格化管理 -> 网格化服务管理
    (['网格化服务管理', '网格化'], [[1, 0], [0, 1]])
    """
    from .tokens import _remap, _remapped, plan_tokens, tokens

    t0 = time.perf_counter()
    plan = plan_tokens(corpus, **token_args)
    if plan.tagged:
        return dtm(tokens(corpus, n_jobs=n_jobs, progress=progress, client=client, **token_args))
    docvars = corpus.docvars.reset_index(drop=True)
    final = plan.final.with_name(plan.final.stem + ".counts.npz") if plan.final is not None else None
    cached = _read_counts(final, len(docvars)) if final is not None else None
    if cached is not None:
        m, vocab = cached
        meta = {**plan.meta, "cache": "hit"}
    else:
        index: dict[str, int] = {}
        spool = _Spool()
        n_cached = 0
        for part in plan.parts(n_jobs, progress, client, round_shards=ROUND_SHARDS):
            n_cached += part.pop("n_cached")
            ids = _remapped(_remap(part["vocab"], index), part["ids"])
            rows = np.split(ids, np.cumsum(part["lengths"])[:-1]) if len(part["lengths"]) else []
            for a in range(0, len(rows), COUNT_ROWS):
                spool.add(_count_rows(rows[a:a + COUNT_ROWS], len(index)))
        vocab = list(index)
        m = spool.matrix(len(vocab))
        meta = {**plan.meta, "cache": f"{n_cached} of {len(plan.shards)} shards"}
        if final is not None:
            _write_counts(final, m, vocab)
    meta["seconds_segment"] = time.perf_counter() - t0
    return DTM(m, np.array(vocab, dtype=object), docvars, "count", meta)


def _write_counts(path: Path, m: sp.csr_matrix, vocab: list[str]) -> None:
    """Counts as a data-only ``.npz`` (a lost entry is only recomputed)."""
    from .files import replacing
    from .tokens import _strings_to_arrays

    vocab_bytes, vocab_ends = _strings_to_arrays(vocab)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path, durable=False) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, data=m.data.astype(COUNT_DTYPE, copy=False), indices=m.indices.astype(np.int32, copy=False),
                     indptr=m.indptr.astype(np.int64), vocab_bytes=vocab_bytes, vocab_ends=vocab_ends)
    except OSError:
        pass


def _read_counts(path: Path, n_rows: int) -> tuple[sp.csr_matrix, list[str]] | None:
    """Counts from the cache, or None when absent or not exactly what :func:`_write_counts` wrote."""
    from .textstore import valid_ends
    from .tokens import _checked_strings

    try:
        with np.load(path, allow_pickle=False) as npz:
            a = {k: npz[k] for k in npz.files}
    except Exception:  # noqa: BLE001 - absent, corrupt or planted: recomputed
        return None
    want = {"data": COUNT_DTYPE, "indices": np.int32, "indptr": np.int64, "vocab_bytes": np.uint8, "vocab_ends": np.int64}
    if set(a) != set(want) or any(a[k].dtype != t or a[k].ndim != 1 for k, t in want.items()):
        return None
    vocab, indptr = _checked_strings(a["vocab_bytes"], a["vocab_ends"]), a["indptr"]
    if vocab is None or len(indptr) != n_rows + 1 or indptr[0] != 0 or not valid_ends(indptr[1:], len(a["data"])) \
            or len(a["indices"]) != len(a["data"]) \
            or (len(a["indices"]) and (a["indices"].min() < 0 or a["indices"].max() >= len(vocab))):
        return None
    m = sp.csr_matrix((a["data"], a["indices"], indptr), shape=(n_rows, len(vocab)))
    m.has_sorted_indices = True
    return m, vocab


def _count_rows(ids: list[np.ndarray], n_terms: int) -> sp.csr_matrix:
    """Counts of a block of units (one entry per token, row by row, summed in place)."""
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    cols = np.concatenate(ids).astype(np.int32, copy=False) if len(ids) else np.empty(0, np.int32)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    m = sp.csr_matrix((np.ones(len(cols), dtype=np.int32), cols, indptr), shape=(len(ids), n_terms))
    m.sum_duplicates()
    return m


class _Spool:
    """Row blocks of counts written to a temporary file as they come and read back into one matrix
    at the end: only the result is ever held whole (a list of blocks plus their stacking would
    hold it twice)."""

    def __init__(self) -> None:
        from .textstore import temp_write_error

        try:
            self.file = tempfile.TemporaryFile()
        except OSError as exc:
            raise temp_write_error(None, exc) from None
        self.sizes: list[tuple[int, int]] = []  # (rows, non-zeros) of each block

    def add(self, block: sp.csr_matrix) -> None:
        from .textstore import temp_write_error

        try:
            for array in (np.diff(block.indptr).astype(np.int64), block.indices.astype(np.int32, copy=False),
                          block.data.astype(COUNT_DTYPE, copy=False)):
                self.file.write(memoryview(np.ascontiguousarray(array)).cast("B"))
            self.file.flush()  # a full disk shows here, not later when the blocks are read back
        except OSError as exc:
            self.file.close()
            raise temp_write_error(None, exc) from None
        self.sizes.append((block.shape[0], block.nnz))

    def matrix(self, n_terms: int) -> sp.csr_matrix:
        n_rows, nnz = sum(r for r, _ in self.sizes), sum(z for _, z in self.sizes)
        row_nnz = np.empty(n_rows, dtype=np.int64)
        indices, data = np.empty(nnz, dtype=np.int32), np.empty(nnz, dtype=COUNT_DTYPE)
        self.file.seek(0)
        row = at = 0
        for rows, z in self.sizes:
            for target in (row_nnz[row:row + rows], indices[at:at + z], data[at:at + z]):
                view = memoryview(target).cast("B")
                while view:
                    view = view[self.file.readinto(view):]
            row, at = row + rows, at + z
        self.file.close()
        m = sp.csr_matrix((data, indices, np.concatenate([[0], np.cumsum(row_nnz)])), shape=(n_rows, n_terms))
        m.has_sorted_indices = True  # each block's indices were sorted by sum_duplicates
        return m


def matrix_sums(m: sp.spmatrix, axis: int, block: int = 1 << 22) -> np.ndarray:
    """``m.sum(axis)`` as a flat array (int64 for integer counts), read ``block`` non-zeros at a
    time: scipy first copies the whole matrix to the sum's type (int32 counts to int64).

    >>> matrix_sums(sp.csr_matrix(np.array([[2, 0], [1, 1]], dtype=np.int32)), axis=0).tolist()
    [3, 1]
    """
    m = m if sp.isspmatrix_csr(m) else sp.csr_matrix(m)
    dtype = np.int64 if np.issubdtype(m.dtype, np.integer) or m.dtype == bool else m.dtype
    if axis == 0:  # float64 sums are exact for counts below 2**53
        out = np.zeros(m.shape[1], dtype=np.float64)
        for a in range(0, m.nnz, block):
            out += np.bincount(m.indices[a:a + block], weights=m.data[a:a + block], minlength=m.shape[1])
        return out.astype(dtype)
    out = np.zeros(m.shape[0], dtype=dtype)
    indptr, row = m.indptr, 0
    while row < m.shape[0]:  # rows whose non-zeros fit in a block (at least one row)
        end = max(row + 1, int(np.searchsorted(indptr, indptr[row] + block, side="right")) - 1)
        end = min(end, m.shape[0])
        lo = indptr[row]
        running = np.concatenate([[0], np.cumsum(m.data[lo:indptr[end]], dtype=dtype)])
        out[row:end] = running[indptr[row + 1:end + 1] - lo] - running[indptr[row:end] - lo]
        row = end
    return out


def doc_counts(m: sp.csr_matrix, block: int = 1 << 22) -> np.ndarray:
    """Per column, the rows with a positive count (document frequency), block by block: no
    boolean copy of the matrix (one is made only when ``m`` is not a canonical CSR matrix).

    >>> doc_counts(sp.csr_matrix(np.array([[2, 0], [1, 1]]))).tolist()
    [2, 1]
    """
    if not sp.isspmatrix_csr(m) or not m.has_canonical_format:  # duplicates would count twice
        m = sp.csr_matrix(m, copy=True)
        m.sum_duplicates()
    out = np.zeros(m.shape[1], dtype=np.int64)
    for a in range(0, m.nnz, block):
        indices, positive = m.indices[a:a + block], m.data[a:a + block] > 0
        out += np.bincount(indices[positive] if not positive.all() else indices, minlength=m.shape[1])
    return out


def dtm_trim(d: DTM, min_count: int = 1, min_df: int | float = 1, max_df: int | float = 1.0,
             max_features: int | None = None) -> DTM:
    """Keep terms by total count and document frequency; ``max_features`` keeps the most frequent.

    Integer ``min_df``/``max_df`` count units, floats are shares of units.

    >>> from zhili.corpus import corpus_from_texts
    >>> from zhili.tokens import tokens
    >>> d = dtm(tokens(corpus_from_texts(["网格化 平安建设", "网格化 矛盾纠纷"]), cache=False))
    >>> list(dtm_trim(d, min_df=2).vocabulary)
    ['网格化']
    """
    n = d.shape[0]
    df = doc_counts(d.matrix)
    counts = matrix_sums(d.matrix, axis=0)
    lo = min_df if isinstance(min_df, (int, np.integer)) else np.ceil(min_df * n)
    hi = max_df if isinstance(max_df, (int, np.integer)) else np.floor(max_df * n)
    keep = (df >= lo) & (df <= hi) & (counts >= min_count)
    idx = np.flatnonzero(keep)
    if max_features is not None and len(idx) > max_features:
        order = np.lexsort((idx, -counts[idx]))  # by count desc, ties by first appearance
        idx = np.sort(idx[order[:max_features]])
    if not len(idx):
        raise ZhiliError(E.E030, min_df=min_df, max_df=max_df, max_features=max_features)
    meta = {**d.meta, "trim": {"min_count": min_count, "min_df": min_df, "max_df": max_df, "max_features": max_features}}
    return replace(d, matrix=d.matrix[:, idx].tocsr(), vocabulary=d.vocabulary[idx], meta=meta)


def dtm_group(d: DTM, by: str | Sequence[str]) -> DTM:
    """Sum rows by one or more document variables; the result's docvars are the groups
    plus ``n_units``. Units whose variable is missing form no group (counted in ``meta``).
    """
    by = require_docvars(d.docvars, by)
    keys = d.docvars[by].astype("object")
    missing = keys.isna().any(axis=1).to_numpy()
    codes, uniques = pd.MultiIndex.from_frame(keys[~missing]).factorize()
    unit_group = np.full(d.shape[0], -1, dtype=np.int64)
    unit_group[~missing] = codes
    matrix = (indicator(unit_group, len(uniques)) @ d.matrix).tocsr()
    groups = uniques.to_frame(index=False)
    groups.columns = by
    groups["doc_id"] = ["|".join(map(str, t)) for t in uniques]
    groups["n_units"] = np.bincount(codes, minlength=len(uniques))
    if d.weighting == "count":
        matrix = matrix.astype(np.int64)
    meta = {**d.meta, "grouped_by": by, "units_without_group": int(missing.sum())}
    return replace(d, matrix=matrix, docvars=groups, meta=meta)


def dtm_weight(d: DTM, scheme: str = "prop") -> DTM:
    """``'prop'``: each row sums to 1; ``'tfidf'``: counts x log(N / df), rows L2-normalised
    (scikit-learn's smooth idf); ``'count'``: unchanged.
    """
    if scheme == "count":
        return d
    if d.weighting != "count":
        raise ZhiliError(E.E031, scheme=f"{scheme} (this matrix is already weighted by {d.weighting}; weight counts)")
    if scheme == "prop":
        sums = np.asarray(d.matrix.sum(axis=1)).ravel().astype(float)
        sums[sums == 0] = 1.0
        m = sp.diags(1.0 / sums) @ d.matrix
    elif scheme == "tfidf":
        from sklearn.feature_extraction.text import TfidfTransformer

        m = TfidfTransformer().fit_transform(d.matrix)
    else:
        raise ZhiliError(E.E031, scheme=scheme)
    return replace(d, matrix=sp.csr_matrix(m), weighting=scheme)


def term_frequencies(d: DTM, by: str | Sequence[str] | None = None, n: int | None = None) -> pd.DataFrame:
    """Tidy term table: ``term, count, doc_count`` (and ``share``), per group when ``by``.

    >>> from zhili.corpus import corpus_from_texts
    >>> from zhili.tokens import tokens
    >>> d = dtm(tokens(corpus_from_texts(["网格化 网格化", "网格化 平安建设"]), cache=False))
    >>> term_frequencies(d)[["term", "count", "doc_count"]].values.tolist()
    [['网格化', 3, 2], ['平安建设', 1, 1]]
    """
    if by is None:
        return _freq_table(d.matrix, d.vocabulary, n)
    by = require_docvars(d.docvars, by)
    parts = []
    for key, idx in d.docvars.groupby(by, dropna=True, sort=True).indices.items():
        t = _freq_table(d.matrix[idx], d.vocabulary, n)
        key = key if isinstance(key, tuple) else (key,)
        for var, val in zip(by, key):
            t.insert(0, var, val)
        parts.append(t)
    if parts:
        return pd.concat(parts, ignore_index=True)
    empty = _freq_table(d.matrix[:0], d.vocabulary, n)
    for var in reversed(by):
        empty.insert(0, var, pd.Series(dtype=d.docvars[var].dtype))
    return empty


def _freq_table(m: sp.csr_matrix, vocabulary: np.ndarray, n: int | None) -> pd.DataFrame:
    counts = matrix_sums(m, axis=0)
    docs = doc_counts(m)
    keep = np.flatnonzero(counts > 0)
    order = keep[np.lexsort((keep, -counts[keep]))]
    if n is not None:
        order = order[:n]
    total = counts.sum() or 1
    return pd.DataFrame({"term": vocabulary[order], "count": counts[order].astype(np.int64),
                         "doc_count": docs[order].astype(np.int64), "share": counts[order] / total})
