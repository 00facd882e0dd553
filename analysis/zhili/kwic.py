"""Keyword in context, shown in the script the author wrote.

Matching happens on the normalised text (so 网格 also finds 網格), and because
normalisation keeps characters aligned, the context is cut from the original.

>>> from zhili.corpus import corpus_from_texts
>>> kwic(corpus_from_texts(["加強網格化服務管理"]), "网格化", window=2)[["left", "keyword", "right"]].values.tolist()
[['加強', '網格化', '服務']]
"""

from __future__ import annotations

import re
import warnings

import pandas as pd

from .corpus import Corpus
from .docvars import safe_name, rename_message
from .errors import E, ZhiliError, ZhiliWarning
from .normalize import normalize

KWIC_COLUMNS = ["doc_id", "position", "start", "end", "left", "keyword", "right"]


def kwic(corpus: Corpus, pattern: str, window: int = 20, regex: bool = False, max_hits: int | None = None) -> pd.DataFrame:
    """One row per match: ``doc_id, position, start, end, left, keyword, right`` + docvars.

    ``pattern`` is a literal term (Simplified or Traditional) or, with ``regex=True``, a
    regular expression over the Simplified text. Line breaks in the context become spaces.
    A bad regular expression is E171, a negative ``window`` E172, an empty pattern (or a regular
    expression that matches the empty text) E130.
    """
    rx = kwic_pattern(pattern, regex, window)
    docs = corpus.docs
    extra = [c for c in docs.columns if c not in ("doc_id", "position", "text")]
    renamed = {}
    for c in extra:  # a docvar named like a KWIC column keeps its values under a new name (W100)
        if c in KWIC_COLUMNS:
            renamed[c] = safe_name(c, {*docs.columns, *KWIC_COLUMNS, *renamed.values()})
    if renamed:
        warnings.warn(rename_message(renamed, "the documents (in the KWIC table)"), ZhiliWarning, stacklevel=2)
        docs = docs.rename(columns=renamed)
        extra = [renamed.get(c, c) for c in extra]
    rows = []
    for rec, text in zip(docs.to_dict("records"), corpus.iter_texts()):
        for m in rx.finditer(normalize(text)):
            s, e = m.span()
            rows.append({**{c: rec[c] for c in extra}, "doc_id": rec["doc_id"], "position": rec["position"],
                         "start": s, "end": e, "left": _flat(text[max(0, s - window):s]), "keyword": text[s:e],
                         "right": _flat(text[e:e + window])})
            if max_hits is not None and len(rows) >= max_hits:
                break
        if max_hits is not None and len(rows) >= max_hits:
            break
    return pd.DataFrame(rows, columns=KWIC_COLUMNS + extra)


def kwic_pattern(pattern: str, regex: bool = False, window: int = 0) -> re.Pattern[str]:
    """The compiled search pattern of :func:`kwic`, after checking ``window`` (E171, E172).

    >>> kwic_pattern("網格").pattern
    '网格'
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise ZhiliError(E.E172, window=window)
    if not isinstance(pattern, str) or not pattern:
        raise ZhiliError(E.E130, detail="")
    try:
        rx = re.compile(normalize(pattern) if regex else re.escape(normalize(pattern)))
    except re.error as exc:
        raise ZhiliError(E.E171, pattern=pattern, detail=exc) from None
    if rx.fullmatch(""):
        raise ZhiliError(E.E130, detail=f" or matches the empty text (--regex '{pattern}')")
    return rx


def _flat(s: str) -> str:
    return s.replace("\r", " ").replace("\n", " ")
