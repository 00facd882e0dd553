"""Tokens: the segmented corpus, stored compactly as integer ids into one vocabulary.

``tokens(corpus)`` normalises, segments (cached on disk, optionally in several processes)
and filters; ``tokens_filter`` and ``tokens_replace`` return new objects. Filtering is
decided once per word type, not per token, so it costs almost nothing.

>>> from zhili.corpus import corpus_from_texts
>>> toks = tokens(corpus_from_texts(["推进网格化管理工作。", "加强矛盾纠纷多元化解"]), cache=False)
>>> toks[0]  # the synonym map merges 网格化管理 into 网格化服务管理
['网格化服务管理']
>>> toks.docvars["doc_id"].tolist()
['text1', 'text2']
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from collections import defaultdict
from itertools import count
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from . import lexicon
from .corpus import Corpus
from .errors import E, ZhiliError
from .files import replacing
from .normalize import normalize
from .segment import SegmenterConfig, encode, get_segmenter

CACHE_FORMAT = 1

_UNITS = "年|月|日|号|万|亿|个|项|家|人|次|元|公里|亩|吨|倍|届|批|所|座|条|户"
_CN_NUM = "[零〇一二三四五六七八九十百千万亿两]"
# numbers, years and counts (2019年, 一九五八年, 三百万); five-year-plan names (十四五) are kept
_NUMBER = re.compile(rf"^[\d.,%‰+\-－·]+[%‰]?$|^(?!十[一二三四五]?五$){_CN_NUM}+$|^(\d+|{_CN_NUM}+)({_UNITS})$")
_HAS_WORD_CHAR = re.compile(r"[\w\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class TokenFilter:
    """Which word types to keep. Every setting is part of the run manifest.

    ``stopwords`` is ``'all'`` (general + policy boilerplate), ``'general'``, ``'policy'``
    or ``'none'``; ``extra_stopwords`` a file or words; ``pos`` a tuple of jieba POS tag
    prefixes to keep (``('n', 'v')``; tagging is slower); ``synonyms`` merges variants
    (``True`` = the shipped map, or a path).

    >>> TokenFilter().keep("网格化"), TokenFilter().keep("的"), TokenFilter().keep("2019")
    (True, False, False)
    """

    stopwords: str = "all"
    extra_stopwords: tuple[str, ...] = ()
    min_chars: int = 2
    numbers: bool = False
    punctuation: bool = False
    latin: bool = True
    pos: tuple[str, ...] | None = None
    synonyms: bool | str = True

    def __post_init__(self) -> None:
        if self.stopwords not in ("all", "general", "policy", "none"):
            raise ZhiliError(E.E022, name=f"stopwords={self.stopwords}", available="all, general, policy, none")
        object.__setattr__(self, "extra_stopwords", tuple(self.extra_stopwords))
        if self.pos is not None:
            object.__setattr__(self, "pos", tuple(self.pos))

    @property
    def stopword_set(self) -> frozenset[str]:
        extra: list[str] = []
        for item in self.extra_stopwords:
            extra += sorted(lexicon.stopwords("none", item)) if Path(item).is_file() else [item]
        return lexicon.stopwords(self.stopwords, extra)

    def keep(self, term: str, stop: frozenset[str] | None = None) -> bool:
        """Whether one word type passes (POS is checked separately, per token)."""
        stop = self.stopword_set if stop is None else stop
        if term in stop or term.isspace():
            return False
        if not _HAS_WORD_CHAR.search(term):
            return self.punctuation
        if len(term) < self.min_chars:
            return False
        if not self.numbers and _NUMBER.match(term):
            return False
        return self.latin or not _LATIN.search(term) or bool(_HAN.search(term))

    def keep_mask(self, vocab: Sequence[str]) -> np.ndarray:
        """:meth:`keep` for a whole vocabulary at once (each test mapped in C).

        >>> TokenFilter().keep_mask(["网格化", "的", "2019", "GDP"]).tolist()
        [True, False, False, True]
        """
        def test(fn) -> np.ndarray:
            return np.fromiter(map(fn, vocab), dtype=bool, count=len(vocab))

        stop = self.stopword_set
        gone = test(stop.__contains__) | test(str.isspace)
        word = test(lambda t: _HAS_WORD_CHAR.search(t) is not None)
        keep = ~gone & word & (np.fromiter(map(len, vocab), dtype=np.int64, count=len(vocab)) >= self.min_chars)
        if not self.numbers:
            keep &= ~test(lambda t: _NUMBER.match(t) is not None)
        if not self.latin:
            keep &= ~(test(lambda t: _LATIN.search(t) is not None) & ~test(lambda t: _HAN.search(t) is not None))
        return keep | (~gone & ~word) if self.punctuation else keep


@dataclass
class Tokens:
    """Segmented units: ``ids[i]`` indexes ``vocab``; ``docvars`` rows align with units.

    ``pos_ids`` (parallel to ``ids``, indexing ``pos_vocab``) is present when tagged.
    """

    vocab: list[str]
    ids: list[np.ndarray]
    docvars: pd.DataFrame
    meta: dict = field(default_factory=dict)
    pos_vocab: list[str] | None = None
    pos_ids: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> list[str]:
        vocab = self.vocab
        return [vocab[j] for j in self.ids[i]]

    def __iter__(self) -> Iterator[list[str]]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"Tokens({len(self)} units, {self.n_tokens.sum()} tokens, {len(self.vocab)} types)"

    @property
    def n_tokens(self) -> np.ndarray:
        return np.array([len(a) for a in self.ids], dtype=np.int64)

    def to_lists(self) -> list[list[str]]:
        return list(self)


def tokens(corpus: Corpus, *, segmenter: str = "auto", hmm: bool = True, lexicon: bool = True,
           places: bool = True, user_dicts: Sequence[str | Path] = (), filter: TokenFilter | None = TokenFilter(),
           cache: bool | str | Path = True, n_jobs: int = 1, progress: bool | None = None) -> Tokens:
    """Normalise, segment and filter every unit of ``corpus``.

    ``filter=None`` keeps every token (punctuation and spaces included). ``cache`` is
    ``True`` (the user cache folder, ``$ZHILI_CACHE_DIR`` or ``~/.cache/zhili``), a folder,
    or ``False``. ``n_jobs`` > 1 segments shards in that many processes (``-1``: all cores).
    """
    config = SegmenterConfig(segmenter, hmm, lexicon, places, tuple(map(str, user_dicts)))
    tagged = filter is not None and filter.pos is not None
    cache_dir = _cache_dir(cache)
    t0 = time.perf_counter()
    seg = get_segmenter(config)
    shards = list(corpus.shards())
    keys = [_shard_key(shard, seg.fingerprint, tagged) for shard in shards]
    meta = {"segmenter": asdict(config), "backend": config.resolved_backend, "segmenter_fingerprint": seg.fingerprint,
            "tagged": tagged, "unit": corpus.unit, "filter": asdict(filter) if filter is not None else None}
    docvars = corpus.docvars.reset_index(drop=True)
    final = cache_dir / "final" / f"{_final_key(keys, filter)}.pkl" if cache_dir is not None else None
    packed = _read_cache(final) if final is not None else None
    if packed is not None:
        toks = _unpack(packed, docvars, {**meta, "cache": "hit"})
    else:
        results, n_cached = _segment_shards(shards, keys, config, tagged, cache_dir, n_jobs, progress)
        vocab, ids, pos_vocab, pos_ids = _merge(results, tagged)
        toks = Tokens(vocab, ids, docvars, {**meta, "cache": f"{n_cached} of {len(shards)} shards"}, pos_vocab, pos_ids)
        toks = tokens_filter(toks, filter) if filter is not None else _compact(toks)
        if final is not None:
            _write_cache(final, _pack(toks))
    toks.meta["seconds_segment"] = time.perf_counter() - t0
    return toks


def tokens_filter(toks: Tokens, filter: TokenFilter = TokenFilter()) -> Tokens:
    """Drop stopwords, punctuation, numbers, short words (and POS) and merge synonyms.

    >>> from zhili.corpus import corpus_from_texts
    >>> raw = tokens(corpus_from_texts(["坚持推进网格化"]), filter=None, cache=False)
    >>> tokens_filter(raw, TokenFilter(stopwords="none"))[0]
    ['坚持', '推进', '网格化']
    """
    keep = filter.keep_mask(toks.vocab)
    pos_keep = None
    if filter.pos is not None:
        if toks.pos_ids is None:
            raise ZhiliError(E.E022, name="pos (these tokens were not tagged; pass the filter to tokens())",
                             available="stopwords, extra_stopwords, min_chars, numbers, punctuation, latin, synonyms")
        pos_keep = np.array([p.startswith(filter.pos) for p in toks.pos_vocab], dtype=bool)
    ids, pos_ids = [], []
    for i, a in enumerate(toks.ids):
        m = keep[a]
        if pos_keep is not None:
            m &= pos_keep[toks.pos_ids[i]]
        ids.append(a[m])
        if toks.pos_ids is not None:
            pos_ids.append(toks.pos_ids[i][m])
    out = replace(toks, ids=ids, pos_ids=pos_ids if toks.pos_ids is not None else None,
                  meta={**toks.meta, "filter": asdict(filter)})
    if filter.synonyms:
        synonyms = lexicon.read_synonyms(None if filter.synonyms is True else filter.synonyms)
        out = tokens_replace(out, synonyms)
    return _compact(out)


def tokens_replace(toks: Tokens, mapping: dict[str, str]) -> Tokens:
    """Replace word types by their canonical form (``variant -> canonical``).

    >>> from zhili.corpus import corpus_from_texts
    >>> t = tokens(corpus_from_texts(["网格管理员"]), filter=None, cache=False, lexicon=False)
    >>> tokens_replace(t, {"管理员": "管理人员"})[0]
    ['网格', '管理人员']
    """
    vocab = list(toks.vocab)
    index = {t: i for i, t in enumerate(vocab)}
    remap = np.arange(len(vocab), dtype=np.int32)
    for i, term in enumerate(toks.vocab):
        canon = mapping.get(term)
        if canon is not None and canon != term:
            if canon not in index:
                index[canon] = len(vocab)
                vocab.append(canon)
            remap[i] = index[canon]
    ids = [remap[a] for a in toks.ids]
    return _compact(replace(toks, vocab=vocab, ids=ids))


def _compact(toks: Tokens) -> Tokens:
    """Drop vocabulary entries no token uses (order kept)."""
    flat = np.concatenate(toks.ids) if toks.ids else np.empty(0, np.int32)
    used = np.flatnonzero(np.bincount(flat, minlength=len(toks.vocab)))
    if len(used) == len(toks.vocab):
        return toks
    remap = np.full(len(toks.vocab), -1, dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    return replace(toks, vocab=[toks.vocab[i] for i in used], ids=[remap[a] for a in toks.ids])


# --- segmentation of shards: cached, optionally parallel ----------------------------------

def _cache_dir(cache: bool | str | Path) -> Path | None:
    if cache is False:
        return None
    if cache is True:
        root = os.environ.get("ZHILI_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "zhili"
        return Path(root)
    return Path(cache)


def _shard_key(texts: Sequence[str], fingerprint: str, tagged: bool) -> str:
    h = hashlib.sha256(f"{CACHE_FORMAT}|{fingerprint}|{tagged}".encode())
    for t in texts:
        h.update(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest())
    return h.hexdigest()


def segment_shard(config: SegmenterConfig, texts: Sequence[str], tagged: bool = False) -> dict:
    """Segment one shard of raw texts into a local vocabulary and id arrays (picklable, compact)."""
    seg = get_segmenter(config)
    norms = [normalize(t) for t in texts]
    if not tagged:
        vocab, ids, lengths = seg.cut_batch(norms)
        return {"vocab": vocab, "ids": ids, "lengths": lengths, "pos_vocab": None, "pos_ids": None}
    pairs = [seg.tag(t) for t in norms]
    vocab, ids = encode([w for doc in pairs for w, _ in doc])
    pos_vocab, pos_ids = encode([p for doc in pairs for _, p in doc])
    return {"vocab": vocab, "ids": ids, "lengths": np.array([len(d) for d in pairs], dtype=np.int64),
            "pos_vocab": pos_vocab, "pos_ids": pos_ids}


def _final_key(shard_keys: list[str], filter: TokenFilter | None) -> str:
    """Key of the filtered result: the shards plus every filter setting and word list."""
    h = hashlib.sha256("|".join(shard_keys).encode())
    if filter is not None:
        h.update(repr(sorted(asdict(filter).items())).encode())
        h.update("\n".join(sorted(filter.stopword_set)).encode())
        if filter.synonyms:
            synonyms = lexicon.read_synonyms(None if filter.synonyms is True else filter.synonyms)
            h.update(repr(sorted(synonyms.items())).encode())
    return h.hexdigest()


def _read_cache(path: Path) -> dict | None:
    try:
        return pickle.loads(path.read_bytes()) if path.exists() else None
    except Exception:  # a corrupt or foreign cache entry is recomputed
        return None


def _pack(toks: Tokens) -> dict:
    cat = lambda arrays: np.concatenate(arrays) if arrays else np.empty(0, np.int32)  # noqa: E731
    return {"vocab": toks.vocab, "ids": cat(toks.ids), "lengths": toks.n_tokens, "pos_vocab": toks.pos_vocab,
            "pos_ids": cat(toks.pos_ids) if toks.pos_ids is not None else None}


def _unpack(packed: dict, docvars: pd.DataFrame, meta: dict) -> Tokens:
    bounds = np.cumsum(packed["lengths"])[:-1]
    pos_ids = np.split(packed["pos_ids"], bounds) if packed["pos_ids"] is not None else None
    return Tokens(packed["vocab"], np.split(packed["ids"], bounds), docvars, meta, packed["pos_vocab"], pos_ids)


def _segment_shards(shards: list[list[str]], keys: list[str], config: SegmenterConfig, tagged: bool,
                    cache_dir: Path | None, n_jobs: int, progress: bool | None) -> tuple[list[dict], int]:
    """Each shard from the cache or segmented (then cached); how many came from the cache."""
    paths = [cache_dir / key[:2] / f"{key}.pkl" if cache_dir is not None else None for key in keys]
    results = [_read_cache(p) if p is not None else None for p in paths]
    n_cached = sum(r is not None for r in results)
    todo = [i for i, r in enumerate(results) if r is None]
    for i, res in zip(todo, _run_shards(config, [shards[i] for i in todo], tagged, n_jobs, progress)):
        results[i] = res
        if paths[i] is not None:
            _write_cache(paths[i], res)
    return results, n_cached


def _write_cache(path: Path, res: dict) -> None:
    with replacing(path, durable=False) as tmp:  # a lost cache entry is only recomputed
        tmp.write_bytes(pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL))


def _run_shards(config: SegmenterConfig, shards: list[list[str]], tagged: bool, n_jobs: int,
                progress: bool | None) -> Iterable[dict]:
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    n_jobs = (os.cpu_count() or 1) if n_jobs == -1 else max(1, n_jobs)
    bar = tqdm(total=sum(map(len, shards)), desc="segment", unit="doc", disable=not show or not shards, leave=False)
    if n_jobs == 1 or len(shards) < 2:
        for shard in shards:
            yield segment_shard(config, shard, tagged)
            bar.update(len(shard))
    else:
        ctx = get_context("fork" if sys.platform == "linux" else "spawn")
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
            for shard, res in zip(shards, pool.map(segment_shard, [config] * len(shards), shards,
                                                   [tagged] * len(shards))):
                yield res
                bar.update(len(shard))
    bar.close()


def _merge(results: list[dict], tagged: bool):
    """Shard vocabularies into one; each shard's ids remapped with numpy."""
    index: defaultdict[str, int] = defaultdict(count().__next__)
    pos_index: defaultdict[str, int] = defaultdict(count().__next__)
    ids: list[np.ndarray] = []
    pos_ids: list[np.ndarray] = []
    for res in results:
        bounds = np.cumsum(res["lengths"])[:-1]
        ids += np.split(_remap(res["vocab"], index)[res["ids"]], bounds)
        if tagged:
            pos_ids += np.split(_remap(res["pos_vocab"], pos_index)[res["pos_ids"]], bounds)
    return list(index), ids, (list(pos_index) if tagged else None), (pos_ids if tagged else None)


def _remap(local: list[str], index: defaultdict[str, int]) -> np.ndarray:
    """Global ids of a shard's vocabulary (new terms get the next id)."""
    return np.fromiter(map(index.__getitem__, local), dtype=np.int32, count=len(local))
