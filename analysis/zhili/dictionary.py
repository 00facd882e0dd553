"""Dictionary coding: count the terms of each category (e.g. policy instruments) per
document or per group. The file format is described in ``corpus/dictionaries/README.md``.

A dictionary is YAML (``category: [terms]``, or ``category: {terms: [...], patterns: [...]}``)
or CSV (``category,term[,pattern]``). Terms must equal a vocabulary entry; patterns are
regular expressions searched in each vocabulary entry (``^网格`` = every term starting with
网格). Terms are normalised like the texts (traditional to simplified, full width to half).

>>> import scipy.sparse as sp
>>> from zhili.dtm import DTM
>>> d = DTM(sp.csr_matrix(np.array([[2, 1, 7], [0, 3, 7]])), np.array(["网格员", "税收优惠", "发展"], dtype=object),
...         pd.DataFrame({"doc_id": ["a", "b"], "city": ["南通市", "苏州市"]}))
>>> dic = Dictionary({"网格化": ("网格员",), "供给型": ("税收优惠",)}, {"网格化": ("^网格",)})
>>> code_dictionary(d, dic)[["doc_id", "category", "count", "rate"]].values.tolist()
[['a', '网格化', 2, 200.0], ['a', '供给型', 1, 100.0], ['b', '网格化', 0, 0.0], ['b', '供给型', 3, 300.0]]
"""

from __future__ import annotations

import csv
import re
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

from .corpus import Corpus
from .dtm import DTM, dtm
from .errors import E, ZhiliError, ZhiliWarning
from .grouping import doc_ids as unit_doc_ids
from .grouping import group_labels, indicator, sorted_values
from .normalize import normalize
from .tokens import Tokens, tokens

YAML_KEYS = ("terms", "patterns")


@dataclass(frozen=True)
class Dictionary:
    """Categories with their exact ``terms`` and regular-expression ``patterns``.

    Both map category -> tuple of strings; ``categories`` keeps the file's order.
    """

    terms: dict[str, tuple[str, ...]]
    patterns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys([*self.terms, *self.patterns]))

    def match(self, vocabulary: Sequence[str]) -> pd.DataFrame:
        """Which vocabulary entries each category counts, and why: ``category, term, matched_by``
        (``'term'`` or ``'pattern ^网格'``). Check this table before trusting the counts.

        >>> Dictionary({"网格化": ("网格员",)}, {"网格化": ("^网格",)}).match(["网格员", "网格化", "发展"]).values.tolist()
        [['网格化', '网格员', 'term'], ['网格化', '网格化', 'pattern ^网格']]
        """
        vocabulary = [str(t) for t in vocabulary]
        present = set(vocabulary)
        rows = []
        for category in self.categories:
            seen: set[str] = set()
            for term in self.terms.get(category, ()):
                if term in present and term not in seen:
                    seen.add(term)
                    rows.append((category, term, "term"))
            for pattern in self.patterns.get(category, ()):
                regex = re.compile(pattern)
                for term in vocabulary:
                    if term not in seen and regex.search(term):
                        seen.add(term)
                        rows.append((category, term, f"pattern {pattern}"))
        return pd.DataFrame(rows, columns=["category", "term", "matched_by"])

    def missing_terms(self, vocabulary: Sequence[str]) -> list[str]:
        """Dictionary terms that are not in ``vocabulary`` (so they count nothing)."""
        present = set(map(str, vocabulary))
        return [t for terms in self.terms.values() for t in terms if t not in present]


def read_dictionary(path: str | Path) -> Dictionary:
    """Read a YAML (.yaml/.yml) or CSV/TSV (.csv/.tsv) dictionary; E051 names the line or key at fault.

    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.yaml")
    >>> _ = open(f, "w", encoding="utf-8").write("供给型: [资金支持, 人才培养]\\n网格化:\\n  patterns: ['^网格']\\n")
    >>> read_dictionary(f).terms, read_dictionary(f).patterns
    ({'供给型': ('资金支持', '人才培养')}, {'网格化': ('^网格',)})
    """
    path = Path(path)
    if not path.is_file():
        raise ZhiliError(E.E001, path=path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _read_yaml(path)
    if suffix in (".csv", ".tsv"):
        return _read_csv(path, "\t" if suffix == ".tsv" else ",")
    raise ZhiliError(E.E051, path=path, where="file type", detail=f"'{suffix or '(none)'}' is not .yaml, .yml, .csv or .tsv")


def _read_yaml(path: Path) -> Dictionary:
    try:
        root = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "syntax"
        raise ZhiliError(E.E051, path=path, where=where, detail=f"not valid YAML ({getattr(err, 'problem', err)})") from None
    except UnicodeDecodeError as err:
        raise ZhiliError(E.E051, path=path, where="encoding", detail=f"not UTF-8 ({err.reason})") from None
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise ZhiliError(E.E051, path=path, where=f"line {line}", detail="the top level must be `category: [terms]` entries")
    terms: dict[str, tuple[str, ...]] = {}
    patterns: dict[str, tuple[str, ...]] = {}
    for key_node, value_node in root.value:
        category = _scalar(path, key_node, "a category name")
        where = f"line {value_node.start_mark.line + 1}, key '{category}'"
        if category in terms or category in patterns:
            raise ZhiliError(E.E051, path=path, where=f"line {key_node.start_mark.line + 1}, key '{category}'",
                             detail="this category appears twice; merge the two lists")
        if isinstance(value_node, yaml.SequenceNode):
            found = {"terms": value_node}
        elif isinstance(value_node, yaml.MappingNode):
            found = {}
            for sub_key, sub_value in value_node.value:
                name = _scalar(path, sub_key, "'terms' or 'patterns'")
                if name not in YAML_KEYS:
                    raise ZhiliError(E.E051, path=path, where=f"line {sub_key.start_mark.line + 1}, key '{category}.{name}'",
                                     detail="unknown key; a category may have only 'terms' and 'patterns'")
                if not isinstance(sub_value, yaml.SequenceNode):
                    raise ZhiliError(E.E051, path=path, where=f"line {sub_value.start_mark.line + 1}, key '{category}.{name}'",
                                     detail="expected a list, e.g. [资金支持, 人才培养]")
                found[name] = sub_value
        else:
            raise ZhiliError(E.E051, path=path, where=where,
                             detail="expected a list of terms, or a mapping with 'terms' and/or 'patterns'")
        cat_terms = tuple(_term(_scalar(path, n, "a term")) for n in found.get("terms", yaml.SequenceNode("", [])).value)
        cat_patterns = tuple(_pattern(path, f"line {n.start_mark.line + 1}, key '{category}'", _scalar(path, n, "a pattern"))
                             for n in found.get("patterns", yaml.SequenceNode("", [])).value)
        if not cat_terms and not cat_patterns:
            raise ZhiliError(E.E051, path=path, where=where, detail="the category has no terms and no patterns")
        if cat_terms:
            terms[category] = cat_terms
        if cat_patterns:
            patterns[category] = cat_patterns
    return Dictionary(terms, patterns, str(path))


def _scalar(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
        raise ZhiliError(E.E051, path=path, where=f"line {node.start_mark.line + 1}", detail=f"expected {what} (text)")
    return node.value.strip()


def _term(term: str) -> str:
    return normalize(term).strip()


def _pattern(path: Path, where: str, pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as err:
        raise ZhiliError(E.E051, path=path, where=where,
                         detail=f"pattern '{pattern}' is not a valid regular expression ({err})") from None
    return pattern


def _read_csv(path: Path, delimiter: str) -> Dictionary:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise ZhiliError(E.E051, path=path, where="encoding", detail=f"not UTF-8 ({err.reason})") from None
    rows = [(n, next(csv.reader([line], delimiter=delimiter))) for n, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise ZhiliError(E.E051, path=path, where="line 1", detail="the file has no header and no entries")
    header_line, header = rows[0]
    columns = [c.strip().lower() for c in header]
    if "category" not in columns or not ({"term", "pattern"} & set(columns)):
        raise ZhiliError(E.E051, path=path, where=f"line {header_line}",
                         detail=f"the header must name 'category' and 'term' (and/or 'pattern'); found {', '.join(columns)}")
    terms: dict[str, list[str]] = {}
    patterns: dict[str, list[str]] = {}
    for line, row in rows[1:]:
        cells = dict(zip(columns, (c.strip() for c in row)))
        category, term, pattern = cells.get("category", ""), cells.get("term", ""), cells.get("pattern", "")
        if not category:
            raise ZhiliError(E.E051, path=path, where=f"line {line}", detail="the category is empty")
        if not term and not pattern:
            raise ZhiliError(E.E051, path=path, where=f"line {line}", detail="the row has neither a term nor a pattern")
        if term:
            terms.setdefault(category, []).append(_term(term))
        if pattern:
            patterns.setdefault(category, []).append(_pattern(path, f"line {line}", pattern))
    return Dictionary({k: tuple(dict.fromkeys(v)) for k, v in terms.items()},
                      {k: tuple(dict.fromkeys(v)) for k, v in patterns.items()}, str(path))


def code_dictionary(data: object, dictionary: Dictionary | str | Path, by: str | Sequence[str] | None = None,
                    per: float = 1000) -> pd.DataFrame:
    """Count each category's terms per document (``by=None``) or per group, with a rate per
    ``per`` tokens (the tokens counted in the matrix, i.e. after stopword filtering).

    ``data`` is a :class:`~zhili.dtm.DTM`, :class:`~zhili.tokens.Tokens` or
    :class:`~zhili.corpus.Corpus`. A Corpus is segmented with the dictionary's terms added
    to the segmenter, so multi-word terms like 资金支持 are kept whole; with a DTM or Tokens,
    terms the segmenter split are not found (a :class:`ZhiliWarning` lists them). A term in
    two categories counts in both; a term matched twice in one category counts once.

    Columns: ``doc_id`` + document variables (or ``by, group, n_docs``), then ``category,
    count, n_tokens, rate``.
    """
    dic = dictionary if isinstance(dictionary, Dictionary) else read_dictionary(dictionary)
    d = _as_dtm(data, dic)
    matches = dic.match(d.vocabulary)
    missing = dic.missing_terms(d.vocabulary)
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        advice = ("They do not occur in these texts; check their spelling." if isinstance(data, Corpus) else
                  "Code the Corpus instead (keeps them whole), or check their spelling.")
        warnings.warn(f"{len(missing)} dictionary terms are not in the vocabulary and count nothing: {shown}. "
                      + advice, ZhiliWarning, stacklevel=2)
    categories = dic.categories
    column = {t: i for i, t in enumerate(map(str, d.vocabulary))}
    cat_index = {c: i for i, c in enumerate(categories)}
    assign = sp.csr_matrix((np.ones(len(matches)), ([column[t] for t in matches["term"]],
                                                    [cat_index[c] for c in matches["category"]])),
                           shape=(len(d.vocabulary), len(categories)))
    counts = np.asarray((d.matrix @ assign).todense()) if len(categories) else np.zeros((d.shape[0], 0))
    n_tokens = np.asarray(d.matrix.sum(axis=1), dtype=float).ravel()
    ids = pd.Series(unit_doc_ids(d.docvars))
    if by is None:
        keys = ids
        order = list(dict.fromkeys(keys))
        docvars = d.docvars.drop(columns=[c for c in ("position", "text") if c in d.docvars])
        frame = docvars.assign(doc_id=keys.to_numpy()).drop_duplicates("doc_id").reset_index(drop=True)
        n_docs = None
    else:
        name, keys = group_labels(d.docvars, by, what="dictionary coding")
        order = sorted_values(keys)
        frame = pd.DataFrame({"by": name, "group": pd.Series(order, dtype=object)})
        known = keys.notna().to_numpy()
        n_docs = ids[known].groupby(keys[known].to_numpy()).nunique().reindex(order).to_numpy()
    position = {k: i for i, k in enumerate(order)}
    group = indicator(np.array([-1 if k is None else position[k] for k in keys], dtype=np.int64), len(order))
    group_counts = group @ counts
    group_tokens = group @ n_tokens
    if n_docs is not None:
        frame["n_docs"] = n_docs
    out = frame.loc[frame.index.repeat(len(categories))].reset_index(drop=True)
    out["category"] = np.tile(categories, len(order))
    out["count"] = group_counts.ravel().astype(np.int64)
    out["n_tokens"] = np.repeat(group_tokens, len(categories)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = out["count"] / out["n_tokens"].where(out["n_tokens"] > 0) * per
    out.attrs.update(dictionary=dic.source, per=per, missing_terms=missing)
    return out


def _as_dtm(data: object, dic: Dictionary) -> DTM:
    """A count matrix from a DTM, Tokens or Corpus (segmented with the dictionary's terms)."""
    if isinstance(data, DTM):
        if data.weighting != "count":
            raise ValueError(f"code_dictionary needs a count matrix; this one is weighted by {data.weighting}")
        return data
    if isinstance(data, Tokens):
        return dtm(data)
    if isinstance(data, Corpus):
        words = sorted({t for terms in dic.terms.values() for t in terms})
        with tempfile.TemporaryDirectory() as folder:
            user_dict = Path(folder) / "dictionary_terms.txt"
            user_dict.write_text("\n".join(words) + "\n", encoding="utf-8")
            return dtm(tokens(data, user_dicts=[user_dict], cache=False))
    raise TypeError(f"code_dictionary needs a DTM, Tokens or Corpus, not {type(data).__name__}")
