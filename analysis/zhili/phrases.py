"""Phrase discovery: multi-word terms from segmented documents (``zhili phrases``).

A candidate is a run of 2–``max_tokens`` adjacent tokens inside a punctuation-free
stretch, with no stopword at either end. A good phrase is *cohesive* — its parts
occur together far more often than chance: the PMI of its weakest split into two
parts is high — and *free* — many different tokens occur on its left and on its
right: both boundary entropies are high. Punctuation and document edges count as
a new, distinct neighbour each time (a phrase at a sentence end is free there);
a number is one neighbour, ``<NUM>``, and never part of a phrase.

Measures (base-2 logs; ``N`` = number of tokens; ``c`` = count):
  pmi   = min over splits a|b of log2(c(ab) · N / (c(a) · c(b)))
  npmi  = pmi / -log2(c(ab) / N)                      (in [-1, 1])
  score = npmi · min(left_entropy, right_entropy) · log2(1 + count)

Counting is apriori-pruned: a k-gram is counted only when both its (k-1)-gram
prefix and suffix reached ``min_count``, so every part of a kept phrase is counted.

>>> docs = [["乡村", "振兴", "战略", "。"], ["推进", "乡村", "振兴"], ["乡村", "振兴", "取得", "成效"]] * 3
>>> find_phrases(docs, min_count=3, min_pmi=0, min_entropy=0)["phrase"].tolist()[:1]
['乡村振兴']
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import pandas as pd

__all__ = ["find_phrases", "propose_terms", "to_user_dict"]

COLUMNS = ["phrase", "tokens", "n_tokens", "count", "doc_count", "pmi", "left_entropy", "right_entropy", "score"]
#: a token without a letter or Han character (punctuation, spaces) breaks a stretch ...
_WORD_RE = re.compile(r"[^\W\d_]")
#: ... except a number, which stays as this placeholder: never in a phrase, but a neighbour
#: (so 个百分点, always after a number, has no left freedom)
NUMBER = "<NUM>"
_NUMBER_RE = re.compile(r"[0-9０-９][0-9０-９.．,，%％]*")
#: jieba keeps a user word whole when its frequency beats the product of its parts';
#: this floor is above that product for all but the most frequent parts of jieba's dictionary.
USER_DICT_MIN_FREQ = 2000


def _stretches(docs_tokens: Iterable[Sequence[str]]) -> tuple[list[tuple[int, tuple[str, ...]]], int]:
    """Punctuation-free runs of tokens, each with its document index; and the token total."""
    stretches: list[tuple[int, tuple[str, ...]]] = []
    n_tokens = 0
    for doc_index, tokens in enumerate(docs_tokens):
        run: list[str] = []
        for token in tokens:
            token = token.strip()
            if token and _WORD_RE.search(token):
                run.append(token)
                continue
            if _NUMBER_RE.fullmatch(token):
                run.append(NUMBER)
                continue
            if run:
                stretches.append((doc_index, tuple(run)))
                run = []
        if run:
            stretches.append((doc_index, tuple(run)))
        n_tokens += sum(1 for t in tokens if t.strip())
    return stretches, n_tokens


def _entropy(neighbours: Counter[str], n_edges: int) -> float:
    """Entropy (bits) of the neighbours; each edge (punctuation, document end) is a new one."""
    total = sum(neighbours.values()) + n_edges
    if total == 0:
        return 0.0
    h = -sum(n / total * math.log2(n / total) for n in neighbours.values())
    return h + n_edges / total * math.log2(total)


def find_phrases(
    docs_tokens: Iterable[Sequence[str]],
    min_count: int = 5,
    max_tokens: int = 4,
    min_pmi: float = 3.0,
    min_entropy: float = 1.0,
    stopwords: Collection[str] = (),
    top: int | None = 200,
) -> pd.DataFrame:
    """Score candidate phrases; keep those with ``pmi >= min_pmi`` and both entropies ``>= min_entropy``.

    Returns one row per phrase (columns :data:`COLUMNS`), best ``score`` first,
    at most ``top`` rows (all when ``None``).

    >>> docs = [["营商", "环境", "持续", "优化"], ["优化", "营商", "环境"], ["改善", "营商", "环境", "，"]] * 2
    >>> find_phrases(docs, min_count=2, min_pmi=0, min_entropy=0)[["phrase", "count"]].values.tolist()[:1]
    [['营商环境', 6]]
    """
    stops = frozenset(stopwords)
    stretches, n_total = _stretches(docs_tokens)
    counts: dict[int, Counter[tuple[str, ...]]] = {1: Counter((t,) for _, run in stretches for t in run)}
    for k in range(2, max_tokens + 1):
        shorter, grams = counts[k - 1], Counter()
        for _, run in stretches:
            for i in range(len(run) - k + 1):
                gram = run[i : i + k]
                if shorter[gram[:-1]] >= min_count and shorter[gram[1:]] >= min_count:
                    grams[gram] += 1
        counts[k] = Counter({gram: n for gram, n in grams.items() if n >= min_count})

    def count_of(gram: tuple[str, ...]) -> int:
        return counts[len(gram)][gram]

    candidates = {
        gram: n
        for k in range(2, max_tokens + 1)
        for gram, n in counts[k].items()
        if gram[0] not in stops and gram[-1] not in stops and NUMBER not in gram
    }
    cohesion: dict[tuple[str, ...], float] = {}
    for gram, n in candidates.items():
        pmi = min(math.log2(n * n_total / (count_of(gram[:i]) * count_of(gram[i:]))) for i in range(1, len(gram)))
        if pmi >= min_pmi:
            cohesion[gram] = pmi

    left: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    right: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    left_edges: Counter[tuple[str, ...]] = Counter()
    right_edges: Counter[tuple[str, ...]] = Counter()
    docs_of: dict[tuple[str, ...], set[int]] = defaultdict(set)
    lengths = sorted({len(g) for g in cohesion})
    for doc_index, run in stretches:
        for k in lengths:
            for i in range(len(run) - k + 1):
                gram = run[i : i + k]
                if gram not in cohesion:
                    continue
                docs_of[gram].add(doc_index)
                if i > 0:
                    left[gram][run[i - 1]] += 1
                else:
                    left_edges[gram] += 1
                if i + k < len(run):
                    right[gram][run[i + k]] += 1
                else:
                    right_edges[gram] += 1

    rows = []
    for gram, pmi in cohesion.items():
        h_left = _entropy(left[gram], left_edges[gram])
        h_right = _entropy(right[gram], right_edges[gram])
        if min(h_left, h_right) < min_entropy:
            continue
        n = candidates[gram]
        npmi = pmi / -math.log2(n / n_total)
        score = npmi * min(h_left, h_right) * math.log2(1 + n)
        rows.append(("".join(gram), " ".join(gram), len(gram), n, len(docs_of[gram]), pmi, h_left, h_right, score))
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values(["score", "phrase"], ascending=[False, True], ignore_index=True)
    return table if top is None else table.head(top)


def to_user_dict(table: pd.DataFrame, path: str | Path, freq: int | None = None) -> Path:
    """Write ``table``'s phrases as a jieba user dictionary (``word freq nz`` per line).

    ``freq`` defaults to ``max(USER_DICT_MIN_FREQ, 10 · count)``, high enough that
    jieba keeps the phrase as one word.

    >>> import tempfile, pathlib
    >>> p = to_user_dict(pd.DataFrame({"phrase": ["营商环境"], "count": [12]}), pathlib.Path(tempfile.mkdtemp()) / "u.txt")
    >>> p.read_text(encoding="utf-8")
    '营商环境 2000 nz\\n'
    """
    path = Path(path)
    lines = [
        f"{phrase} {freq if freq is not None else max(USER_DICT_MIN_FREQ, 10 * int(count))} nz"
        for phrase, count in zip(table["phrase"], table["count"])
    ]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


#: a proposed term must be Han characters only (no Latin letters or digits: pinyin residue, codes)
_HAN_TERM = re.compile(r"[\u4e00-\u9fff]{3,10}")


def propose_terms(corpus_or_texts, *, min_count: int = 5, top: int = 50, exclude: Collection[str] = (),
                  **tokens_kwargs) -> tuple[list[str], pd.DataFrame]:
    """Multi-word terms for this run (``zhili run --discover-phrases``): phrases of the corpus that the
    segmenter splits, proposed for the run's user dictionary.

    ``corpus_or_texts`` is a :class:`zhili.Corpus` or a list of strings. Tokens are cut with every
    dictionary loaded (``tokens_kwargs`` go to :func:`zhili.tokens`, e.g. ``segmenter``, ``user_dicts``),
    scored by :func:`find_phrases` (general stopwords at the edges), and a phrase is proposed when it is
    3–10 Han characters (no Latin letters or digits), has no one-character token, stopword (推进, 深入) or
    self-reference (全省) at either edge and no place name, is not already a dictionary word, and not in ``exclude``. Returns the proposed terms (best first, at most ``top``) and the table of every scored
    phrase with a ``proposed`` column and, if not, the ``reason``.

    >>> texts = ["推进接诉即办改革，接诉即办成效明显。", "深化接诉即办，完善接诉即办机制。"] * 3
    >>> terms, table = propose_terms(texts, min_count=3, cache=False)
    >>> "proposed" in table.columns
    True
    """
    from zhili.corpus import Corpus, corpus_from_texts
    from zhili.lexicon import governance_lexicon, place_names, regional_names, stopwords
    from zhili.tokens import TokenFilter, tokens

    c = corpus_or_texts if isinstance(corpus_or_texts, Corpus) else corpus_from_texts(list(corpus_or_texts))
    toks = tokens(c, filter=TokenFilter(stopwords="none", min_chars=1, synonyms=False), **tokens_kwargs)
    table = find_phrases(toks, min_count=min_count, top=None, stopwords=stopwords("general"))
    known = {e.word for e in governance_lexicon()} | set(exclude)
    reasons = []
    places = place_names()
    edge_words = stopwords("all") | regional_names()  # 深入推进, 加快建设, 全省第一 stay apart
    for phrase, parts in zip(table["phrase"], table["tokens"].str.split(" ")):
        if not _HAN_TERM.fullmatch(phrase):
            reasons.append("not 3-10 Han characters")
        elif len(parts[0]) == 1 or len(parts[-1]) == 1:
            reasons.append("a one-character edge (年, 月, 日, 为 …)")
        elif parts[0] in edge_words or parts[-1] in edge_words:
            reasons.append("a stopword or self-reference at an edge (推进, 深入, 全省 …)")
        elif any(p in places for p in parts):
            reasons.append("contains a place name")
        elif phrase in known:
            reasons.append("already a dictionary word or excluded")
        else:
            reasons.append("")
    table = table.assign(reason=reasons, proposed=[not r for r in reasons])
    ranked = table.loc[table["proposed"].astype(bool), "phrase"].tolist()[:top]
    table["proposed"] = table["phrase"].isin(ranked)
    table.loc[table["reason"].eq("") & ~table["proposed"], "reason"] = f"below the top {top}"
    return ranked, table
