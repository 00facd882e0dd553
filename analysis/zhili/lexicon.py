"""zhili's shipped language resources: governance user dictionary, place names, stopwords, synonyms.

The files live in ``zhili/data/`` and are generated from real text by the scripts in ``corpus/lexicon/``
(see the README there for sources, rules and evidence).

>>> from zhili.lexicon import governance_lexicon, place_names, stopwords, read_synonyms
>>> any(e.word == "市域社会治理" for e in governance_lexicon())
True
>>> {"南通", "南通市", "江苏"} <= place_names()
True
>>> "推进" in stopwords("policy") and "的" in stopwords("general")
True
>>> read_synonyms()["新冠肺炎疫情"]
'新冠疫情'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from zhili.errors import E, ZhiliError

STOPWORD_KINDS = ("general", "policy", "all", "none")
PLACE_LEVELS = ("province", "prefecture", "county")
_POS_TAG = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Entry:
    """One user-dictionary line: ``word [freq] [pos]``.

    >>> Entry("社会治理", 438, "n")
    Entry(word='社会治理', freq=438, pos='n')
    """

    word: str
    freq: int | None = None
    pos: str | None = None


def resource_path(name: str) -> Path:
    """Path of a shipped data file, e.g. ``resource_path("places.txt")``.

    >>> resource_path("stopwords_general.txt").name
    'stopwords_general.txt'
    """
    return Path(str(resources.files("zhili") / "data" / name))


def _content_lines(path: Path) -> Iterable[tuple[int, str]]:
    """(line number, stripped line) for lines that are neither blank nor '#' comments."""
    text = path.read_text(encoding="utf-8-sig")
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield n, stripped


def read_user_dict(path: str | Path) -> list[Entry]:
    """Read a jieba user dictionary (``word [freq] [pos]`` per line, UTF-8; blank lines and '#' comments skipped).

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
    ...     _ = fh.write("# demo\\n网格员 20 n\\n综治中心\\n")
    >>> read_user_dict(fh.name)
    [Entry(word='网格员', freq=20, pos='n'), Entry(word='综治中心', freq=None, pos=None)]
    >>> os.remove(fh.name)
    """
    path = Path(path)
    if not path.exists():
        raise ZhiliError(E.E001, path=path)
    try:
        lines = list(_content_lines(path))
    except UnicodeDecodeError as exc:
        raise ZhiliError(E.E002, path=path, detail=exc) from exc
    entries = []
    for n, line in lines:
        fields = line.split()
        if len(fields) > 3:
            detail = f"{len(fields)} fields in '{line}'; a word may not contain whitespace"
            raise ZhiliError(E.E020, path=path, line=n, detail=detail)
        word, freq, pos = fields[0], None, None
        if len(fields) >= 2:
            if fields[1].isdigit():
                freq = int(fields[1])
            elif len(fields) == 2 and _POS_TAG.fullmatch(fields[1]):
                pos = fields[1]  # `word pos`, as jieba also accepts
            else:
                detail = f"frequency '{fields[1]}' is not a non-negative integer"
                raise ZhiliError(E.E020, path=path, line=n, detail=detail)
        if len(fields) == 3:
            pos = fields[2]
        entries.append(Entry(word, freq, pos))
    return entries


@lru_cache(maxsize=1)
def governance_lexicon() -> list[Entry]:
    """The shipped governance dictionary (Simplified; terms plain jieba splits, e.g. 社会治理, 矛盾纠纷)."""
    return read_user_dict(resource_path("governance_lexicon.txt"))


@lru_cache(maxsize=1)
def _places() -> tuple[tuple[str, str, str, str], ...]:
    rows = []
    for _, line in _content_lines(resource_path("places.txt")):
        name, full_name, level, province = line.split("\t")
        rows.append((name, full_name, level, province))
    return tuple(rows)


def place_names(level: str | None = None) -> frozenset[str]:
    """Chinese administrative division names, full and short forms (江苏省, 江苏, 南通市, 南通, 海门区, 海门).

    ``level`` keeps one level: 'province', 'prefecture' or 'county'.

    >>> "海门" in place_names("county") and "海门" not in place_names("province")
    True
    """
    if level is not None and level not in PLACE_LEVELS:
        raise ZhiliError(E.E024, what="place level", value=level, available=", ".join(PLACE_LEVELS))
    return frozenset(name for name, _, lvl, _ in _places() if level is None or lvl == level)


@lru_cache(maxsize=None)
def _stopword_file(name: str) -> frozenset[str]:
    return frozenset(line for _, line in _content_lines(resource_path(name)))


def stopwords(kind: str = "all", extra: Iterable[str] | str | Path | None = None) -> frozenset[str]:
    """Stopwords: 'general' (function words), 'policy' (boilerplate like 推进, 加强), 'all' (both) or 'none'.

    ``extra`` adds words: a file path (one word per line, '#' comments allowed) or an iterable of words.

    >>> sorted(stopwords("none", extra=["本市", "全区"]))
    ['全区', '本市']
    """
    if kind not in STOPWORD_KINDS:
        raise ZhiliError(E.E024, what="stopword kind", value=kind, available=", ".join(STOPWORD_KINDS))
    words: set[str] = set()
    if kind in ("general", "all"):
        words |= _stopword_file("stopwords_general.txt")
    if kind in ("policy", "all"):
        words |= _stopword_file("stopwords_policy.txt")
    if isinstance(extra, (str, Path)):
        path = Path(extra)
        if not path.exists():
            raise ZhiliError(E.E001, path=path)
        words |= {line for _, line in _content_lines(path)}
    elif extra is not None:
        words |= {w.strip() for w in extra if w.strip()}
    return frozenset(words)


def read_synonyms(path: str | Path | None = None) -> dict[str, str]:
    """Map variant -> canonical from a ``canonical<TAB>variant1 variant2 ...`` file (None = the shipped one).

    >>> read_synonyms()["规模以上工业"]
    '规上工业'
    """
    path = resource_path("synonyms.tsv") if path is None else Path(path)
    if not path.exists():
        raise ZhiliError(E.E001, path=path)
    mapping: dict[str, str] = {}
    canonical_line: dict[str, int] = {}
    for n, line in _content_lines(path):
        canonical, sep, rest = line.partition("\t")
        canonical, variants = canonical.strip(), rest.split()
        if not sep or not canonical or not variants:
            raise ZhiliError(E.E023, path=path, line=n, detail="needs a canonical word, a TAB, then variants")
        if " " in canonical:
            raise ZhiliError(E.E023, path=path, line=n, detail=f"canonical '{canonical}' contains a space")
        if canonical in mapping:
            detail = f"'{canonical}' is already a variant of '{mapping[canonical]}'; chains are not allowed"
            raise ZhiliError(E.E023, path=path, line=n, detail=detail)
        canonical_line.setdefault(canonical, n)
        for variant in variants:
            if variant == canonical or variant in canonical_line:
                detail = f"'{variant}' is a canonical form (line {canonical_line[variant]}); it cannot also be a variant"
                raise ZhiliError(E.E023, path=path, line=n, detail=detail)
            if variant in mapping and mapping[variant] != canonical:
                detail = f"'{variant}' already maps to '{mapping[variant]}'"
                raise ZhiliError(E.E023, path=path, line=n, detail=detail)
            mapping[variant] = canonical
    return mapping


def lexicon_hash(entries: Iterable[Entry]) -> str:
    """sha256 hex digest over the sorted entries; the same dictionary always gives the same key.

    >>> lexicon_hash([Entry("a", 1, "n"), Entry("b")]) == lexicon_hash([Entry("b"), Entry("a", 1, "n")])
    True
    """
    lines = sorted(f"{e.word}\t{'' if e.freq is None else e.freq}\t{e.pos or ''}" for e in entries)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
