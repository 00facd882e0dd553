"""Word segmentation with jieba's dictionary and semantics, fast by default.

Three interchangeable backends cut the same way: ``native`` (zhili's C port of jieba's cut,
``zhili/_cut.c``, which returns integer ids; the default where it was compiled), ``rjieba``
(jieba-rs, a Rust port; the default without a C compiler) and plain ``jieba``. All get the
same extra dictionaries in the same order — place names, the shipped governance lexicon,
then the user's dictionaries, which win.
Text is normalised first (width, Traditional to Simplified), and because normalisation
keeps one character for one character, tokens can be shown in the original script.

>>> seg = Segmenter()
>>> seg.cut("推进市域社会治理，加强网格化管理")
['推进', '市域社会治理', '，', '加强', '网格化管理']
>>> seg.segment("貫徹落實習近平總書記指示")
['貫徹落實', '習近平', '總書記', '指示']
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache
from itertools import count
from importlib.metadata import version
from pathlib import Path

import numpy as np

from . import lexicon
from .errors import E, ZhiliError
from .normalize import normalize

BACKENDS = ("auto", "native", "rjieba", "jieba")
_ASCII_WITH_PUNCT = re.compile(r"^[a-zA-Z0-9+#&._%\-]*[+#&._%\-][a-zA-Z0-9+#&._%\-]*$", re.M)  # jieba re_han ASCII runs with a cut point
_JIEBA_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")  # jieba.finalseg's re_skip


@dataclass(frozen=True)
class SegmenterConfig:
    """Everything that changes how text is cut (and so every cache key).

    >>> SegmenterConfig(backend="jieba").backend
    'jieba'
    """

    backend: str = "auto"
    hmm: bool = True
    lexicon: bool = True
    places: bool = True
    user_dicts: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ZhiliError(E.E021, name=self.backend)
        if self.backend == "native" and not native_available():
            raise ZhiliError(E.E065)
        object.__setattr__(self, "user_dicts", tuple(str(Path(p)) for p in self.user_dicts))

    @property
    def resolved_backend(self) -> str:
        """The backend ``auto`` stands for: the fastest one installed."""
        if self.backend != "auto":
            return self.backend
        if native_available():
            return "native"
        try:
            import rjieba  # noqa: F401
        except ImportError:
            return "jieba"
        return "rjieba"


def native_available() -> bool:
    """Whether zhili's C cutter was compiled at install time (it needs a C compiler).

    >>> isinstance(native_available(), bool)
    True
    """
    try:
        from . import _cut  # noqa: F401
    except ImportError:
        return False
    return True


def _dictionary_entries(config: SegmenterConfig) -> list[lexicon.Entry]:
    """The extra dictionary, in load order: ours first, the user's last (so theirs win)."""
    entries: list[lexicon.Entry] = []
    if config.places:
        entries += [lexicon.Entry(name, None, "ns") for name in sorted(lexicon.place_names())]
    if config.lexicon:
        entries += lexicon.governance_lexicon()
    for path in config.user_dicts:
        if Path(path).exists() and not Path(path).is_file():
            raise ZhiliError(E.E173, path=path, detail="it is a folder" if Path(path).is_dir() else "not a regular file")
        entries += lexicon.read_user_dict(path)
    return entries


class Segmenter:
    """Cut normalised Chinese text into words.

    Parameters mirror :class:`SegmenterConfig`. ``cut`` works on analysis text (already
    normalised); ``segment`` takes raw text and returns tokens in its own characters.

    >>> Segmenter(backend="jieba", lexicon=False).cut("网格化管理")[:1]
    ['网格化']
    """

    def __init__(self, backend: str = "auto", hmm: bool = True, lexicon: bool = True,
                 places: bool = True, user_dicts: Sequence[str | Path] = ()) -> None:
        self.config = SegmenterConfig(backend, hmm, lexicon, places, tuple(map(str, user_dicts)))

    @classmethod
    def from_config(cls, config: SegmenterConfig) -> Segmenter:
        return cls(**asdict(config))

    @cached_property
    def entries(self) -> list[lexicon.Entry]:
        return _dictionary_entries(self.config)

    @cached_property
    def fingerprint(self) -> str:
        """A hash of the backend, its version, the settings and every extra dictionary entry."""
        backend = self.config.resolved_backend
        if backend == "native":
            from . import _cut

            backend_version = f"{version('zhili')}/cut{_cut.VERSION}"
        else:
            backend_version = version(backend)
        payload = {
            "backend": backend,
            "backend_version": backend_version,
            "jieba_dictionary": version("jieba"),
            "hmm": self.config.hmm,
            "entries": lexicon.lexicon_hash(self.entries),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @cached_property
    def _engine(self):
        if self.config.resolved_backend == "rjieba":
            import rjieba

            engine = rjieba.Jieba()
            for e in self.entries:
                if e.pos == "ns" and e.freq is None and engine.has_word(e.word):
                    continue
                engine.add_word(e.word, e.freq, e.pos)
            return engine
        import jieba

        engine = jieba.Tokenizer()
        level = jieba.default_logger.level
        jieba.default_logger.setLevel(logging.WARNING)  # jieba announces its dictionary loading on stderr
        try:
            engine.initialize()
        finally:
            jieba.default_logger.setLevel(level)
        for e in self.entries:
            if e.pos == "ns" and e.freq is None and e.word in engine.FREQ and engine.FREQ[e.word]:
                continue
            engine.add_word(e.word, e.freq, e.pos)
        return engine

    @cached_property
    def _native(self):
        """The C cutter, built from the jieba engine's dictionary (so it cuts as jieba does)."""
        import jieba.finalseg as finalseg

        from ._cut import Cutter

        engine = self._engine
        return Cutter(engine.FREQ, engine.total, finalseg.start_P, finalseg.trans_P, finalseg.emit_P,
                      finalseg.Force_Split_Words)

    @cached_property
    def _tagger(self):
        if self.config.resolved_backend == "rjieba":
            return lambda text: self._engine.tag(text, self.config.hmm)
        import jieba.posseg

        tagger = jieba.posseg.POSTokenizer(self._engine)
        return lambda text: [(p.word, p.flag) for p in tagger.cut(text, HMM=self.config.hmm)]

    def cut(self, text: str) -> list[str]:
        """Tokens of already-normalised text; every character lands in exactly one token."""
        vocab, ids, _ = self.cut_batch([text])
        return [vocab[i] for i in ids]

    def cut_batch(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Tokens of many normalised texts as (vocabulary, int32 ids, tokens per text).

        The ``native`` backend returns ids straight from C; the others encode their token
        lists with ``map`` over a dict. Every later step works on integer arrays.
        """
        if self.config.resolved_backend == "native":
            vocab, ids, lengths = self._native.cut_batch(texts, self.config.hmm)
            return vocab, np.frombuffer(ids, dtype=np.int32), np.frombuffer(lengths, dtype=np.int64)
        flat: list[str] = []
        lengths = []
        if self.config.resolved_backend == "jieba":
            for text in texts:
                toks = self._engine.lcut(text, HMM=self.config.hmm)
                flat.extend(toks)
                lengths.append(len(toks))
            return (*encode(flat), np.array(lengths, dtype=np.int64))
        cut, hmm = self._engine.cut, self.config.hmm
        for text in texts:
            toks = cut(text, hmm)
            flat.extend(toks)
            lengths.append(len(toks))
        vocab, ids = encode(flat)
        return self._split_ascii_runs(vocab, ids, np.array(lengths, dtype=np.int64))

    def _split_ascii_runs(self, vocab: list[str], ids: np.ndarray, lengths: np.ndarray):
        """jieba cuts ASCII runs like '2021-2025' or 'PM_2.5' at the punctuation (its
        ``finalseg.re_skip``); jieba-rs keeps them whole. Re-cut those word types, then
        expand the id array with numpy."""
        has_word = self._engine.has_word
        split = {t: p for t in _ASCII_WITH_PUNCT.findall("\n".join(vocab))
                 if len(p := [x for x in _JIEBA_SKIP.split(t) if x]) > 1 and not has_word(t)}
        if not split:
            return vocab, ids, lengths
        index = dict(zip(vocab, range(len(vocab))))
        pieces = {index[t]: p for t, p in split.items()}
        n_pieces = np.ones(len(vocab), dtype=np.int64)
        for i, parts in pieces.items():
            n_pieces[i] = len(parts)
        first_piece = np.cumsum(n_pieces) - n_pieces
        flat_pieces = np.repeat(np.arange(len(vocab), dtype=np.int32), n_pieces)
        for i, parts in pieces.items():
            flat_pieces[first_piece[i]:first_piece[i] + len(parts)] = [index.setdefault(x, len(index)) for x in parts]
        per_token = n_pieces[ids]
        ends = np.cumsum(per_token)
        within = np.arange(ends[-1]) - np.repeat(ends - per_token, per_token)
        new_ids = flat_pieces[np.repeat(first_piece[ids], per_token) + within]
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        cum = np.concatenate([[0], ends])
        return list(index), new_ids, cum[bounds[1:]] - cum[bounds[:-1]]

    def tag(self, text: str) -> list[tuple[str, str]]:
        """(token, part-of-speech) pairs of already-normalised text (jieba's tag set)."""
        return self._tagger(text)

    def segment(self, text: str, keep_all: bool = True) -> list[str]:
        """Tokens of raw text, in the text's own characters (Traditional stays Traditional).

        With ``keep_all=False`` whitespace-only tokens are dropped.

        >>> Segmenter().segment("網格化 管理", keep_all=False)
        ['網格化', '管理']
        """
        tokens = realign(text, self.cut(normalize(text)))
        return tokens if keep_all else [t for t in tokens if not t.isspace()]


def encode(items: list[str]) -> tuple[list[str], np.ndarray]:
    """Strings to (vocabulary in first-seen order, int32 ids).

    >>> encode(["网格", "治理", "网格"])
    (['网格', '治理'], array([0, 1, 0], dtype=int32))
    """
    index: defaultdict[str, int] = defaultdict(count().__next__)  # a new string gets the next id
    ids = np.fromiter(map(index.__getitem__, items), dtype=np.int32, count=len(items))
    return list(index), ids


def realign(original: str, tokens: Sequence[str]) -> list[str]:
    """Cut ``original`` at the same character offsets as ``tokens`` (of its normalised form).

    >>> realign("國家治理", ["国家", "治理"])
    ['國家', '治理']
    """
    out, pos = [], 0
    for tok in tokens:
        out.append(original[pos:pos + len(tok)])
        pos += len(tok)
    return out


def get_segmenter(config: SegmenterConfig) -> Segmenter:
    """One shared :class:`Segmenter` per configuration and process (loading costs ~0.1-1 s).

    Keyed by the configuration *and the content* of its user dictionaries, so editing a
    dictionary file (in a notebook, between two calls) takes effect.
    """
    return _shared_segmenter(config, user_dict_stamp(config))


def user_dict_stamp(config: SegmenterConfig) -> tuple[str, ...]:
    """SHA-256 of each user dictionary's bytes (or why it cannot be read)."""
    stamps = []
    for path in config.user_dicts:
        try:
            stamps.append(hashlib.sha256(Path(path).read_bytes()).hexdigest())
        except OSError as exc:
            stamps.append(f"unreadable:{type(exc).__name__}")
    return tuple(stamps)


@lru_cache(maxsize=4)
def _shared_segmenter(config: SegmenterConfig, stamp: tuple[str, ...]) -> Segmenter:
    return Segmenter.from_config(config)
