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
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import lexicon
from .corpus import Corpus
from .errors import E, ZhiliError
from .files import replacing
from .normalize import normalize
from .parallel import n_workers, start_workers
from .segment import SegmenterConfig, cache_root, encode, get_segmenter
from .textstore import StoredShards, valid_ends

CACHE_FORMAT = 3  # 3: data-only .npz (no pickle), validated on read

_UNITS = "年|月|日|号|万|亿|个|项|家|人|次|元|公里|亩|吨|倍|届|批|所|座|条|户"
_CN_NUM = "[零〇一二三四五六七八九十百千万亿两]"
# numbers, years and counts (2019年, 一九五八年, 三百万); five-year-plan names (十四五) are kept


def _number_pattern(end: str) -> str:
    return (rf"[\d.,%‰+\-－·]+[%‰]?{end}|(?!十[一二三四五]?五{end}){_CN_NUM}+{end}"
            rf"|(\d+|{_CN_NUM}+)({_UNITS}){end}")


_NUMBER = re.compile(rf"^(?:{_number_pattern('$')})")
_WORD_CHARS, _LATIN_CHARS, _HAN_CHARS = r"\w\u3400-\u9fff", "A-Za-z", r"\u3400-\u9fff"
_HAS_WORD_CHAR = re.compile(f"[{_WORD_CHARS}]")
_LATIN = re.compile(f"[{_LATIN_CHARS}]")
_HAN = re.compile(f"[{_HAN_CHARS}]")
# the same tests as whole-word patterns over a vocabulary joined by _SEP (see keep_mask)
_SEP = "\x00"
_WHOLE_NUMBER = re.compile(rf"(?<={_SEP})(?:{_number_pattern(f'(?={_SEP})')})")
_WHOLE_NO_WORD_CHAR = re.compile(f"(?<={_SEP})[^{_WORD_CHARS}{_SEP}]+(?={_SEP})")
_WHOLE_NO_LATIN = re.compile(f"(?<={_SEP})[^{_LATIN_CHARS}{_SEP}]*(?={_SEP})")
_WHOLE_NO_HAN = re.compile(f"(?<={_SEP})[^{_HAN_CHARS}{_SEP}]*(?={_SEP})")


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
        """:meth:`keep` for a whole vocabulary at once: each pattern scans the joined
        vocabulary once in C instead of being called per word type.

        >>> TokenFilter().keep_mask(["网格化", "的", "2019", "GDP"]).tolist()
        [True, False, False, True]
        """
        stop = self.stopword_set
        lengths = np.fromiter(map(len, vocab), dtype=np.int64, count=len(vocab))
        joined = _SEP + _SEP.join(vocab) + _SEP
        if joined.count(_SEP) != len(vocab) + 1:  # a word holds the separator: test one by one
            return np.fromiter((self.keep(t, stop) for t in vocab), dtype=bool, count=len(vocab))
        starts = np.cumsum(lengths + 1) - lengths  # offset of each word in `joined`

        def matching(pattern: re.Pattern) -> np.ndarray:
            """Words the whole of which match ``pattern``."""
            hits = np.zeros(len(vocab), dtype=bool)
            found = np.fromiter((m.start() for m in pattern.finditer(joined)), dtype=np.int64)
            hits[np.searchsorted(starts, found)] = True
            return hits

        gone = np.fromiter(map(stop.__contains__, vocab), dtype=bool, count=len(vocab))
        gone |= np.fromiter(map(str.isspace, vocab), dtype=bool, count=len(vocab))
        word = ~matching(_WHOLE_NO_WORD_CHAR)
        keep = ~gone & word & (lengths >= self.min_chars)
        if not self.numbers:
            keep &= ~matching(_WHOLE_NUMBER)
        if not self.latin:
            keep &= matching(_WHOLE_NO_LATIN) | ~matching(_WHOLE_NO_HAN)
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
           cache: bool | str | Path = True, n_jobs: int = 1, progress: bool | None = None,
           client: Any = None) -> Tokens:
    """Normalise, segment and filter every unit of ``corpus``.

    ``filter=None`` keeps every token (punctuation and spaces included). ``cache`` is
    ``True`` (the user cache folder, ``$ZHILI_CACHE_DIR`` or ``~/.cache/zhili``), a folder,
    or ``False``. ``n_jobs`` > 1 segments shards in that many processes (``-1``: all cores).
    ``client`` (a ``distributed.Client``, or a :class:`zhili.dask_engine.LazyCluster`) segments
    them on a Dask cluster's workers instead; the tokens are the same either way.
    """
    t0 = time.perf_counter()
    plan = plan_tokens(corpus, segmenter=segmenter, hmm=hmm, lexicon=lexicon, places=places, user_dicts=user_dicts,
                       filter=filter, cache=cache)
    docvars = corpus.docvars.reset_index(drop=True)
    packed = _read_cache(plan.final) if plan.final is not None else None
    if packed is not None:
        toks = _unpack(packed, docvars, {**plan.meta, "cache": "hit"})
    else:
        parts = list(plan.parts(n_jobs, progress, client))
        n_cached = sum(part.pop("n_cached") for part in parts)
        packed = _merge(parts, plan.tagged)  # each part is compact, so the merged vocabulary is too
        toks = _unpack(packed, docvars, {**plan.meta, "cache": f"{n_cached} of {len(plan.shards)} shards"})
        if plan.final is not None:
            _write_cache(plan.final, packed)
    toks.meta["seconds_segment"] = time.perf_counter() - t0
    return toks


@dataclass
class TokenPlan:
    """What :func:`tokens` (and :func:`zhili.dtm.dtm_counted`) will segment: the shards, their cache
    keys and paths, the final cache entry and the tokens' ``meta``."""

    config: SegmenterConfig
    filter: TokenFilter | None
    tagged: bool
    cache_dir: Path | None
    shards: Sequence[list[str]]
    keys: list[str]
    meta: dict

    @property
    def final(self) -> Path | None:
        return self.cache_dir / "final" / f"{_final_key(self.keys, self.filter)}.npz" if self.cache_dir else None

    def parts(self, n_jobs: int, progress: bool | None, client: Any = None,
              round_shards: int | None = None) -> Iterator[dict]:
        """Packed, filtered tokens of consecutive groups of shards, in order, each with its own
        vocabulary and ``n_cached``. ``round_shards``: at most that many shards per process (or
        Dask partition) at a time, so only a round's texts and tokens are held."""
        if client is not None:  # the Dask engine: the same groups of shards, on a cluster's workers
            from .dask_engine import segment_groups

            yield from segment_groups(client, self.shards, self.keys, self.cache_dir, self.config, self.tagged,
                                      self.filter, progress, round_shards)
            return
        paths = [shard_cache_path(self.cache_dir, key) if self.cache_dir is not None else None for key in self.keys]
        yield from _iter_segment_groups(self.shards, paths, self.config, self.tagged, self.filter, n_jobs, progress,
                                        round_shards)


def plan_tokens(corpus: Corpus, *, segmenter: str = "auto", hmm: bool = True, lexicon: bool = True,
                places: bool = True, user_dicts: Sequence[str | Path] = (),
                filter: TokenFilter | None = TokenFilter(), cache: bool | str | Path = True) -> TokenPlan:
    """The :class:`TokenPlan` of ``tokens(corpus, ...)`` with the same arguments."""
    config = SegmenterConfig(segmenter, hmm, lexicon, places, tuple(map(str, user_dicts)))
    tagged = filter is not None and filter.pos is not None
    cache_dir = _cache_dir(cache)
    seg = get_segmenter(config)
    shards, keys = _shard_plan(corpus, seg.fingerprint, tagged, cache_dir is not None)
    meta = {"segmenter": asdict(config), "backend": config.resolved_backend, "segmenter_fingerprint": seg.fingerprint,
            "tagged": tagged, "unit": corpus.unit, "filter": asdict(filter) if filter is not None else None}
    return TokenPlan(config, filter, tagged, cache_dir, shards, keys, meta)


def tokens_filter(toks: Tokens, filter: TokenFilter = TokenFilter()) -> Tokens:
    """Drop stopwords, punctuation, numbers, short words (and POS) and merge synonyms.

    >>> from zhili.corpus import corpus_from_texts
    >>> raw = tokens(corpus_from_texts(["坚持推进网格化"]), filter=None, cache=False)
    >>> tokens_filter(raw, TokenFilter(stopwords="none"))[0]
    ['坚持', '推进', '网格化']
    """
    return _unpack(_filter_packed(_pack(toks), filter), toks.docvars, {**toks.meta, "filter": asdict(filter)})


def tokens_replace(toks: Tokens, mapping: dict[str, str]) -> Tokens:
    """Replace word types by their canonical form (``variant -> canonical``).

    >>> from zhili.corpus import corpus_from_texts
    >>> t = tokens(corpus_from_texts(["网格管理员"]), filter=None, cache=False, lexicon=False)
    >>> tokens_replace(t, {"管理员": "管理人员"})[0]
    ['网格', '管理人员']
    """
    return _unpack(_replace_packed(_pack(toks), mapping), toks.docvars, toks.meta)


# The steps below work on "packed" tokens: a dict of vocab, ids (one flat int32 array),
# lengths (tokens per unit), pos_vocab and pos_ids (flat, or None). Flat arrays touch far
# less memory than one array per unit, which matters most in forked workers.

def _pack(toks: Tokens) -> dict:
    return {"vocab": toks.vocab, "ids": _concat(toks.ids), "lengths": toks.n_tokens, "pos_vocab": toks.pos_vocab,
            "pos_ids": _concat(toks.pos_ids) if toks.pos_ids is not None else None}


def _unpack(packed: dict, docvars: pd.DataFrame, meta: dict) -> Tokens:
    bounds = np.cumsum(packed["lengths"])[:-1]

    def split(a: np.ndarray) -> list[np.ndarray]:  # no units: no arrays (np.split would give one)
        return np.split(a, bounds) if len(packed["lengths"]) else []

    pos_ids = split(packed["pos_ids"]) if packed["pos_ids"] is not None else None
    return Tokens(packed["vocab"], split(packed["ids"]), docvars, meta, packed["pos_vocab"], pos_ids)


def _concat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if len(arrays) else np.empty(0, np.int32)


def _filter_packed(packed: dict, filter: TokenFilter, decided: dict[str, bool] | None = None) -> dict:
    """:func:`tokens_filter` on packed tokens; returns them compact. ``decided`` keeps each word's
    verdict across calls (shards filtered one by one share most of their words)."""
    if decided is None:
        keep = filter.keep_mask(packed["vocab"])
    else:
        vocab = packed["vocab"]
        new = list(set(vocab).difference(decided))
        if new:
            decided.update(zip(new, filter.keep_mask(new).tolist()))
        keep = np.fromiter(map(decided.__getitem__, vocab), dtype=bool, count=len(vocab))
    m = keep[packed["ids"]]
    if filter.pos is not None:
        if packed["pos_ids"] is None:
            raise ZhiliError(E.E022, name="pos (these tokens were not tagged; pass the filter to tokens())",
                             available="stopwords, extra_stopwords, min_chars, numbers, punctuation, latin, synonyms")
        pos_keep = np.array([p.startswith(filter.pos) for p in packed["pos_vocab"]], dtype=bool)
        m &= pos_keep[packed["pos_ids"]]
    kept_before = np.concatenate([[0], np.cumsum(m, dtype=np.int64)])
    ends = np.cumsum(packed["lengths"])
    out = {**packed, "ids": packed["ids"][m], "lengths": kept_before[ends] - kept_before[ends - packed["lengths"]],
           "pos_ids": packed["pos_ids"][m] if packed["pos_ids"] is not None else None}
    if filter.synonyms:
        return _replace_packed(out, lexicon.read_synonyms(None if filter.synonyms is True else filter.synonyms))
    return _compact_packed(out)


def _replace_packed(packed: dict, mapping: dict[str, str]) -> dict:
    """:func:`tokens_replace` on packed tokens; returns them compact."""
    old_vocab = packed["vocab"]
    variants = [t for t in set(mapping).intersection(old_vocab) if mapping[t] != t]
    if not variants:
        return _compact_packed(packed)
    vocab = list(old_vocab)
    index = dict(zip(vocab, range(len(vocab))))
    remap = np.arange(len(vocab), dtype=np.int32)
    for term in sorted(variants, key=index.__getitem__):
        canon = mapping[term]
        if canon not in index:
            index[canon] = len(vocab)
            vocab.append(canon)
        remap[index[term]] = index[canon]
    # a canonical form takes the place of its earliest variant, so a vocabulary in first-seen
    # order stays in first-seen order (and shards merged before or after agree)
    used = np.flatnonzero(np.bincount(packed["ids"], minlength=len(old_vocab)))
    first = np.full(len(vocab), len(vocab), dtype=np.int64)
    np.minimum.at(first, remap[used], used)
    order = np.argsort(first, kind="stable")[:int((first < len(vocab)).sum())]
    new_id = np.full(len(vocab), -1, dtype=np.int32)
    new_id[order] = np.arange(len(order), dtype=np.int32)
    return {**packed, "vocab": [vocab[i] for i in order], "ids": new_id[remap][packed["ids"]]}


def _compact_packed(packed: dict) -> dict:
    """Drop vocabulary entries no token uses (order kept)."""
    used = np.flatnonzero(np.bincount(packed["ids"], minlength=len(packed["vocab"])))
    if len(used) == len(packed["vocab"]):
        return packed
    remap = np.full(len(packed["vocab"]), -1, dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    return {**packed, "vocab": [packed["vocab"][i] for i in used], "ids": remap[packed["ids"]]}


# --- segmentation of shards: cached, optionally parallel ----------------------------------

def _cache_dir(cache: bool | str | Path) -> Path | None:
    if cache is False:
        return None
    if cache is True:
        return cache_root()
    return Path(cache)


def shard_cache_path(cache_dir: Path, key: str) -> Path:
    """Where the segmentation of the shard with ``key`` (:func:`_shard_key`) is cached."""
    return cache_dir / key[:2] / f"{key}.npz"


def _shard_key(texts: Sequence[str], fingerprint: str, tagged: bool) -> str:
    h = hashlib.sha256(f"{CACHE_FORMAT}|{fingerprint}|{tagged}".encode())
    for t in texts:  # UTF-16 is the quickest lossless encoding of CJK text to hash
        h.update(hashlib.sha256(t.encode("utf-16-le", "surrogatepass")).digest())
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


def _shard_plan(corpus: Corpus, fingerprint: str, tagged: bool, keyed: bool) -> tuple[Sequence[list[str]], list[str]]:
    """The corpus' shards and their cache keys (``""`` when not ``keyed``). A spilled corpus' shards
    are read once here for their keys and again when segmented, never held together."""
    if corpus.store is None:
        shards = list(corpus.shards())
        return shards, [_shard_key(shard, fingerprint, tagged) if keyed else "" for shard in shards]
    bounds, keys, at = [], [], 0
    for shard in corpus.shards():
        bounds.append((at, at + len(shard)))
        keys.append(_shard_key(shard, fingerprint, tagged) if keyed else "")
        at += len(shard)
    return StoredShards(corpus.store, corpus.refs, bounds), keys


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


_CACHE_ARRAYS = ("ids", "lengths", "vocab_bytes", "vocab_ends", "pos_ids", "pos_vocab_bytes", "pos_vocab_ends")


def _read_cache(path: Path) -> dict | None:
    """A packed result from a cache file, or None when it is absent, corrupt, planted or of the
    wrong shape (then it is recomputed). Data only: numpy arrays, never pickles."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return _checked_packed(arrays)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - any unreadable or malformed entry is recomputed
        return None


def _strings_to_arrays(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [s.encode("utf-8", "surrogatepass") for s in strings]
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64) if encoded else np.empty(0, np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def _arrays_to_strings(data: np.ndarray, ends: np.ndarray) -> list[str]:
    raw = data.tobytes()
    starts = np.concatenate([[0], ends[:-1]]) if len(ends) else ends
    return [raw[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts.tolist(), ends.tolist())]


def _checked_strings(data: np.ndarray, ends: np.ndarray) -> list[str] | None:
    """The strings :func:`_strings_to_arrays` stored, or None when ``ends`` do not fit ``data``."""
    return _arrays_to_strings(data, ends) if valid_ends(ends, len(data)) else None


def _checked_packed(arrays: dict[str, np.ndarray]) -> dict | None:
    """Packed tokens from cache arrays after checking every dtype, shape and bound."""
    tagged = "pos_ids" in arrays
    needed = _CACHE_ARRAYS if tagged else _CACHE_ARRAYS[:4]
    if set(arrays) != set(needed):
        return None
    ints = {"ids": np.int32, "lengths": np.int64, "vocab_ends": np.int64, "pos_ids": np.int32,
            "pos_vocab_ends": np.int64}
    for key in needed:
        a = arrays[key]
        want = ints.get(key, np.uint8)
        if a.dtype != want or a.ndim != 1:
            return None
    ids, lengths = arrays["ids"], arrays["lengths"]
    if (lengths < 0).any() or int(lengths.sum()) != len(ids):
        return None

    vocab = _checked_strings(arrays["vocab_bytes"], arrays["vocab_ends"])
    if vocab is None or (len(ids) and (ids.min() < 0 or ids.max() >= len(vocab))):
        return None
    packed = {"vocab": vocab, "ids": ids, "lengths": lengths, "pos_vocab": None, "pos_ids": None}
    if tagged:
        pos_ids = arrays["pos_ids"]
        pos_vocab = _checked_strings(arrays["pos_vocab_bytes"], arrays["pos_vocab_ends"])
        if pos_vocab is None or len(pos_ids) != len(ids) or (
                len(pos_ids) and (pos_ids.min() < 0 or pos_ids.max() >= len(pos_vocab))):
            return None
        packed.update(pos_vocab=pos_vocab, pos_ids=pos_ids)
    return packed


def _iter_segment_groups(shards: Sequence[list[str]], paths: list[Path | None], config: SegmenterConfig,
                         tagged: bool, filter: TokenFilter | None, n_jobs: int, progress: bool | None,
                         round_shards: int | None = None) -> Iterator[dict]:
    """Segment (or read from the cache) and filter contiguous groups of shards, in ``n_jobs``
    processes; yields each group's packed tokens (with ``n_cached``: shards from the cache) in order.

    One process works through one group holding every shard. With several, each process
    (this one included) takes a group and merges and filters it itself, so this process only
    joins ``n_jobs`` vocabularies. Filtering is decided per word type, so both ways give the
    same tokens. With ``round_shards`` the shards are taken ``n_jobs x round_shards`` at a time.
    """
    n_jobs = n_workers(n_jobs)
    step = max(1, len(shards) if round_shards is None else round_shards * n_jobs)
    bar = None
    for start in range(0, max(len(shards), 1), step):  # no shard: one empty group
        stop = min(len(shards), start + step)
        n_groups = max(1, min(stop - start, n_jobs)) if n_jobs > 1 else 1
        cuts = (start + np.linspace(0, stop - start, n_groups + 1).round()).astype(int)
        groups = [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:])]
        rest = [(config, tagged, filter, shards[a:b], paths[a:b]) for a, b in groups[1:]]
        workers = start_workers(_segment_group, rest)  # before the bar, which may start a thread
        bar = bar or _progress_bar(len(shards), progress)
        a, b = groups[0]  # this process takes the first group, n_jobs - 1 workers the others
        yield _segment_group(config, tagged, filter, shards[a:b], paths[a:b], bar.update)
        for (a, b), result in zip(groups[1:], workers):
            part = result()
            bar.update(b - a)
            yield part
    if bar is not None:
        bar.close()


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, progress: bool | None):
    """A tqdm bar on a terminal (or when asked); tqdm, which imports asyncio, only then."""
    if not total or not (sys.stderr.isatty() if progress is None else progress):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="segment", unit="shard", leave=False)


def _segment_group(config: SegmenterConfig, tagged: bool, filter: TokenFilter | None,
                   shards: Iterable[list[str]], paths: Sequence[Path | None], done=None) -> dict:
    """One group of shards: each from the cache or segmented (and cached), merged, filtered, packed."""
    # Untagged shards are filtered one by one and merged as they come, so only the kept tokens of
    # the group are ever held (the same vocabulary order as filtering after the merge). A POS
    # filter can drop every token of a word in one shard but not in a later one, which would
    # move the word in that order, so tagged shards are merged whole and filtered after.
    merger, n_cached = _Merger(tagged), 0
    each = filter if filter is not None and not tagged else None
    decided: dict[str, bool] = {}  # each word's filter verdict, decided once for the group
    for shard, path in zip(shards, paths):
        res = _read_cache(path) if path is not None else None
        n_cached += res is not None
        if res is None:
            res = segment_shard(config, shard, tagged)
            if path is not None:
                _write_cache(path, res)
        merger.add(_filter_packed(res, each, decided) if each is not None else res)
        if done is not None:
            done(1)
    packed = merger.packed()
    if filter is not None and each is None:
        packed = _filter_packed(packed, filter)
    return {**packed, "n_cached": n_cached}


def _write_cache(path: Path, res: dict) -> None:
    """Packed tokens as a data-only ``.npz`` (strings as UTF-8 bytes plus end offsets)."""
    vocab_bytes, vocab_ends = _strings_to_arrays(res["vocab"])
    arrays = {"ids": np.asarray(res["ids"], dtype=np.int32), "lengths": np.asarray(res["lengths"], dtype=np.int64),
              "vocab_bytes": vocab_bytes, "vocab_ends": vocab_ends}
    if res.get("pos_ids") is not None:
        pos_bytes, pos_ends = _strings_to_arrays(res["pos_vocab"])
        arrays.update(pos_ids=np.asarray(res["pos_ids"], dtype=np.int32), pos_vocab_bytes=pos_bytes,
                      pos_vocab_ends=pos_ends)
    try:
        with replacing(path, durable=False) as tmp:  # a lost cache entry is only recomputed
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
    except OSError:  # a cache folder that cannot be written (a file, read-only, full): not cached
        pass


def _merge(results: list[dict], tagged: bool) -> dict:
    """Packed shard (or group) results into one (see :class:`_Merger`)."""
    if len(results) == 1:
        return {k: results[0][k] for k in ("vocab", "ids", "lengths", "pos_vocab", "pos_ids")}
    merger = _Merger(tagged)
    for res in results:
        merger.add(res)
    return merger.packed()


class _Merger:
    """Packed results added one at a time: one vocabulary in first-seen order, each result's ids
    remapped into it as it comes (so the results need not be held until the end)."""

    def __init__(self, tagged: bool) -> None:
        self.tagged = tagged
        self.index: dict[str, int] = {}
        self.pos_index: dict[str, int] = {}
        self.ids: list[np.ndarray] = []
        self.pos_ids: list[np.ndarray] = []
        self.lengths: list[np.ndarray] = []

    def add(self, res: dict) -> None:
        """Take ``res`` over: its id arrays are remapped in place (copied only when read-only)."""
        self.ids.append(_remapped(_remap(res["vocab"], self.index), res["ids"]))
        if self.tagged:
            self.pos_ids.append(_remapped(_remap(res["pos_vocab"], self.pos_index), res["pos_ids"]))
        self.lengths.append(np.asarray(res["lengths"], dtype=np.int64))

    def packed(self) -> dict:
        return {"vocab": list(self.index), "ids": _concat_consuming(self.ids),
                "lengths": np.concatenate(self.lengths) if self.lengths else np.empty(0, np.int64),
                "pos_vocab": list(self.pos_index) if self.tagged else None,
                "pos_ids": _concat_consuming(self.pos_ids) if self.tagged else None}


#: Ids remapped at a time: bounds the index temporaries numpy makes (int64, twice the ids' size).
REMAP_BLOCK = 1 << 20


def _remapped(mapping: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``mapping[ids]`` written over ``ids`` block by block (a copy only when ``ids`` is read-only)."""
    ids = np.asarray(ids, dtype=np.int32)
    if not ids.flags.writeable:
        ids = ids.copy()
    for a in range(0, len(ids), REMAP_BLOCK):
        np.take(mapping, ids[a:a + REMAP_BLOCK], out=ids[a:a + REMAP_BLOCK])
    return ids


def _concat_consuming(arrays: list[np.ndarray]) -> np.ndarray:
    """The arrays end to end, each freed (removed from ``arrays``) once copied: about one copy's memory."""
    out = np.empty(sum(len(a) for a in arrays), dtype=np.int32)
    at = 0
    while arrays:
        a = arrays.pop(0)
        out[at:at + len(a)] = a
        at += len(a)
    return out


def _remap(local: list[str], index: dict[str, int]) -> np.ndarray:
    """Global ids of a shard's vocabulary (its words are distinct; new ones get the next ids, in order)."""
    ids = np.fromiter(map(index.get, local, repeat(-1)), dtype=np.int32, count=len(local))
    new = np.flatnonzero(ids < 0)
    if len(new):
        ids[new] = np.arange(len(index), len(index) + len(new), dtype=np.int32)
        index.update(zip(map(local.__getitem__, new.tolist()), ids[new].tolist()))
    return ids
