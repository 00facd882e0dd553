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
import os
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import BinaryIO
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache
from itertools import count
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from . import lexicon
from .errors import E, ZhiliError
from .files import replacing
from .normalize import normalize

if TYPE_CHECKING:  # numpy loads on first use: `zhili segment` starts without it
    import numpy as np

BACKENDS = ("auto", "native", "rjieba", "jieba")
_ASCII_WITH_PUNCT = re.compile(r"^[a-zA-Z0-9+#&._%\-]*[+#&._%\-][a-zA-Z0-9+#&._%\-]*$", re.M)  # jieba re_han ASCII runs with a cut point
_JIEBA_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")  # jieba.finalseg's re_skip
# Characters jieba-rs cuts as Han but jieba does not (jieba's Han is U+4E00-U+9FD5 only): CJK
# extension A, U+9FD6-U+9FFF, compatibility ideographs and the astral extensions. jieba makes
# each one a token of its own and cuts the text on either side apart.
_RJIEBA_ONLY_HAN = re.compile("([\u3400-\u4dbf\u9fd6-\u9fff\uf900-\ufaff\U00020000-\U0002a6df"
                              "\U0002a700-\U0002ebef\U0002f800-\U0002fa1f])")


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


def _backend_version(backend: str) -> str:
    if backend == "native":
        from . import _cut

        return f"{version('zhili')}/cut{_cut.VERSION}"
    return version(backend)


#: The interface version of ``_cut.c`` this code calls (``_cut.VERSION``); a module compiled from
#: an older source (an install that was not rebuilt) lacks methods such as ``Cutter.load``.
CUT_VERSION = 2


def native_available() -> bool:
    """Whether zhili's C cutter was compiled at install time (it needs a C compiler) from this
    version of ``_cut.c``.

    >>> isinstance(native_available(), bool)
    True
    """
    try:
        from . import _cut
    except ImportError:
        return False
    return getattr(_cut, "VERSION", 0) == CUT_VERSION


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
        payload = {
            "backend": backend,
            "backend_version": _backend_version(backend),
            "jieba_dictionary": version("jieba"),
            "hmm": self.config.hmm,
            "entries": lexicon.lexicon_hash(self.entries),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @cached_property
    def source_key(self) -> str:
        """A hash of everything :attr:`fingerprint` hashes, taken from the raw bytes of the
        dictionary files instead of their parsed entries (milliseconds instead of ~0.2 s):
        the key of the compiled dictionary that ``zhili segment`` starts from."""
        backend = self.config.resolved_backend
        h = hashlib.sha256(json.dumps({"backend": backend, "backend_version": _backend_version(backend),
                                       "jieba_dictionary": version("jieba"), "hmm": self.config.hmm,
                                       "lexicon": self.config.lexicon, "places": self.config.places}).encode())
        files = [*(["places.txt"] if self.config.places else []),
                 *(["governance_lexicon.txt"] if self.config.lexicon else [])]
        for name in files:
            h.update(b"|" + hashlib.sha256(lexicon.resource_path(name).read_bytes()).digest())
        for stamp in user_dict_stamp(self.config):
            h.update(b"|user:" + stamp.encode())
        return h.hexdigest()

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
        """The C cutter, built from the jieba engine's dictionary (so it cuts as jieba does).

        The built dictionary (jieba's, places, lexicon, user dictionaries) is compiled once
        into a binary file in the cache folder, keyed by :attr:`source_key`; later processes
        load it in milliseconds instead of rebuilding it from jieba (about a second). A
        corrupt or planted file is refused by the loader and rebuilt.
        """
        from ._cut import Cutter

        path = compiled_dictionary_path(self.source_key)
        if path is not None:
            try:
                return Cutter.load(path.read_bytes())
            except (OSError, ValueError):
                pass
        import jieba.finalseg as finalseg

        engine = self._engine
        cutter = Cutter(engine.FREQ, engine.total, finalseg.start_P, finalseg.trans_P, finalseg.emit_P,
                        finalseg.Force_Split_Words)
        if path is not None:
            try:
                with replacing(path, durable=False) as tmp:
                    tmp.write_bytes(cutter.dump())
            except OSError:  # a read-only cache folder only costs start-up time
                pass
        return cutter

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
        import numpy as np

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
        cut, hmm, only_han = self._engine.cut, self.config.hmm, _RJIEBA_ONLY_HAN
        for text in texts:
            if only_han.search(text):  # cut as jieba does: those characters alone, the rest apart
                toks = [t for piece in only_han.split(text) if piece
                        for t in ([piece] if only_han.fullmatch(piece) else cut(piece, hmm))]
            else:
                toks = cut(text, hmm)
            flat.extend(toks)
            lengths.append(len(toks))
        vocab, ids = encode(flat)
        return self._split_ascii_runs(vocab, ids, np.array(lengths, dtype=np.int64))

    def _split_ascii_runs(self, vocab: list[str], ids: np.ndarray, lengths: np.ndarray):
        """jieba cuts ASCII runs like '2021-2025' or 'PM_2.5' at the punctuation (its
        ``finalseg.re_skip``); jieba-rs keeps them whole. Re-cut those word types, then
        expand the id array with numpy."""
        import numpy as np

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


    def segment_lines(self, text: str, keep_all: bool = False) -> str:
        """``zhili segment`` on a block of lines: one output line per input line, tokens in the
        text's own characters separated by one space.

        Without ``keep_all`` only tokens with a letter or digit are kept. With ``keep_all``
        every character is in exactly one token and each whitespace character is a token of
        its own, so :func:`rejoin` gives the input back.

        >>> Segmenter().segment_lines("推進網格化管理。\\n\\n加强社会治理")
        '推進 網格化管理\\n\\n加强 社会治理\\n'
        >>> rejoin(Segmenter().segment_lines("a  网格", keep_all=True).rstrip("\\n"))
        'a  网格'
        """
        return self._segment_block(text, keep_all).decode("utf-8")

    def _segment_block(self, text: str, keep_all: bool) -> bytes:
        """UTF-8 output for ``text`` (lines joined by \\n); ends with a newline when ``text`` is non-empty."""
        if not text:
            return b""
        norm = normalize(text)
        if self.config.resolved_backend == "native" and len(norm) == len(text):
            out = self._native.segment_lines(norm, text, self.config.hmm, keep_all)
            return out if text.endswith("\n") else out + b"\n"
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        out = []
        for line in lines:
            toks = realign(line, self.cut(normalize(line)))
            if not keep_all:
                toks = [t for t in toks if any(ch.isalnum() for ch in t)]
            out.append(" ".join(toks))
        return ("\n".join(out) + "\n").encode("utf-8", "surrogatepass")


def rejoin(line: str) -> str:
    """The input line of one ``zhili segment --keep-all`` output line: tokens are separated by
    one space, and a whitespace character of the input is a token of its own.

    >>> rejoin("推进   网格化")  # 推进, ' ', 网格化
    '推进 网格化'
    """
    out, i, n = [], 0, len(line)
    while i < n:
        if line[i].isspace():
            j = i + 1
        else:
            j = i
            while j < n and not line[j].isspace():
                j += 1
        out.append(line[i:j])
        i = j + 1  # the separator
    return "".join(out)


SEGMENT_BLOCK_BYTES = 1 << 22


def segment_file(path: str | Path, sink: BinaryIO, segmenter: Segmenter, keep_all: bool = False,
                 block_bytes: int = SEGMENT_BLOCK_BYTES) -> int:
    """Segment a UTF-8 file (``"-"``: standard input) into ``sink`` in large blocks; returns
    the number of lines. Lines end at \\n (a \\r\\n ending counts as one; a bare \\r is a
    character of the line); a byte-order mark at the start is not text.

    A missing file, a folder or a file that is not UTF-8 is :data:`~zhili.errors.E.E170`.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    if str(path) == "-":
        source: BinaryIO = sys.stdin.buffer
        close = False
    else:
        try:
            source = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise ZhiliError(E.E170, path=name, detail="no such file") from None
        except IsADirectoryError:
            raise ZhiliError(E.E170, path=name, detail="it is a folder") from None
        except OSError as exc:
            raise ZhiliError(E.E170, path=name, detail=exc.strerror or type(exc).__name__) from None
        close = True
    n_lines, offset, line_no, rest = 0, 0, 1, b""
    try:
        first = True
        while True:
            chunk = source.read(block_bytes)
            data = rest + chunk
            if not chunk:
                block, rest = data, b""
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
                block, rest = data[:cut], data[cut:]
            if first and block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
                offset += 3
            first = False
            try:
                text = block.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = line_no + block.count(b"\n", 0, exc.start)
                raise ZhiliError(E.E170, path=name, detail=f"not UTF-8 (byte {offset + exc.start}, line {line})") from None
            if "\r\n" in text:
                text = text.replace("\r\n", "\n")
            sink.write(segmenter._segment_block(text, keep_all))
            lines = text.count("\n") + (not text.endswith("\n") and bool(text))
            n_lines += lines
            line_no += lines
            offset += len(block)
            if not chunk:
                break
    finally:
        if close:
            source.close()
    sink.flush()
    return n_lines


def cache_root() -> Path:
    """zhili's cache folder: ``$ZHILI_CACHE_DIR``, else ``$XDG_CACHE_HOME/zhili`` or ``~/.cache/zhili``."""
    root = os.environ.get("ZHILI_CACHE_DIR")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zhili"


def compiled_dictionary_path(key: str) -> Path | None:
    """Where the compiled dictionary of a segmenter with this :attr:`Segmenter.source_key` is cached."""
    return cache_root() / "dictionaries" / f"{key}.zcut"


def encode(items: list[str]) -> tuple[list[str], np.ndarray]:
    """Strings to (vocabulary in first-seen order, int32 ids).

    >>> encode(["网格", "治理", "网格"])
    (['网格', '治理'], array([0, 1, 0], dtype=int32))
    """
    import numpy as np

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
