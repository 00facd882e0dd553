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
>>> "三湘" in regional_names() and "我区" in regional_names("self")
True
>>> formulation_links()["三治融合"].parts
('自治', '法治', '德治')
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import permutations
from functools import lru_cache
from importlib import resources
from pathlib import Path

from zhili.errors import E, ZhiliError

STOPWORD_KINDS = ("general", "policy", "genre", "all", "none")
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
    """Stopwords: 'general' (function words), 'policy' (boilerplate like 推进, 加强), 'genre' (report
    procedure words like 各位代表, 请予审议: :func:`genre_boilerplate`), 'all' (the three) or 'none'.

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
    if kind in ("genre", "all"):
        words |= genre_boilerplate().words
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


@dataclass(frozen=True)
class GenreBoilerplate:
    """Report-genre procedure words (left out like stopwords) and formulae (regexes)."""

    words: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def genre_boilerplate() -> GenreBoilerplate:
    """The shipped report-genre formulae (``genre_boilerplate.txt``): 各位代表, 请予审议,
    现在我代表…向大会报告, 在…第X届…第X次会议上 …

    >>> gb = genre_boilerplate()
    >>> "各位代表" in gb.words and any(p.search("请予审议。") for p in gb.patterns)
    True
    """
    words, patterns = set(), []
    for _, line in _content_lines(resource_path("genre_boilerplate.txt")):
        if line.startswith("re:"):
            patterns.append(re.compile(line[3:].strip()))
        else:
            words.add(line)
    return GenreBoilerplate(frozenset(words), tuple(patterns))


REGIONAL_KINDS = ("alias", "geography", "self")


@lru_cache(maxsize=1)
def _regional() -> tuple[tuple[str, str, str], ...]:
    return tuple(tuple(line.split("\t")) for _, line in _content_lines(resource_path("regional_names.tsv")))


def regional_names(kind: str | None = None) -> frozenset[str]:
    """Regional names and self-references that keyness treats like place names: literary and customary
    names (三湘, 湖湘, 三晋, 八闽), rivers, lakes and mountains that stand for a region (汾河, 鄱阳湖,
    洱海) and a speaker's own jurisdiction (我区, 全省, 全市, 自治区). ``kind`` keeps one of
    'alias', 'geography', 'self'. Built by ``corpus/lexicon/build_regional_names.py`` (evidence there).

    >>> {"汾河", "鄱阳湖"} <= regional_names("geography") and "全省" not in regional_names("alias")
    True
    """
    if kind is not None and kind not in REGIONAL_KINDS:
        raise ZhiliError(E.E024, what="regional name kind", value=kind, available=", ".join(REGIONAL_KINDS))
    return frozenset(name for name, k, _ in _regional() if kind is None or k == kind)


def excluded_places() -> frozenset[str]:
    """Everything keyness's place exclusion should drop: :func:`place_names` and :func:`regional_names`.

    >>> {"南通", "三湘", "我市"} <= excluded_places()
    True
    """
    return place_names() | regional_names()


@dataclass(frozen=True)
class FormulationLink:
    """A numbered formulation, its other numbered forms and the parts it abbreviates.

    >>> FormulationLink("三治融合", ("三治",), ("自治", "法治", "德治")).forms
    ('三治融合', '三治')
    """

    canonical: str
    variants: tuple[str, ...]
    parts: tuple[str, ...]

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.canonical, *self.variants)


@lru_cache(maxsize=1)
def formulation_links() -> dict[str, FormulationLink]:
    """Numbered formulations linked to their spelled-out parts (``formulation_links.tsv``), by canonical form:
    三治融合 ↔ 自治、法治、德治; 五大发展理念 ↔ 创新、协调、绿色、开放、共享; 放管服 ↔ 简政放权、放管结合、优化服务 …

    >>> formulation_links()["三治融合"].variants
    ('三治结合', '三治')
    """
    links = {}
    for _, line in _content_lines(resource_path("formulation_links.tsv")):
        canonical, variants, parts = line.split("\t")
        links[canonical] = FormulationLink(canonical, tuple(v for v in variants.split() if v != "-"),
                                           tuple(parts.split("、")))
    return links


_JOIN = "[、，,]?(?:和|与|及|以及)?"


@lru_cache(maxsize=1)
def _spelled_out_rx() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for link in formulation_links().values():
        if len(link.parts) > 5:  # permutations of more parts: only the usual order
            orders = [link.parts]
        else:
            orders = list(permutations(link.parts))
        alts = "|".join(_JOIN.join(map(re.escape, order)) for order in orders)
        out.append((link.canonical, re.compile(f"(?:{alts})")))
    return tuple(out)


def spelled_out_formulations(text: str) -> list[tuple[str, int, int]]:
    """Where ``text`` spells a numbered formulation out: ``(canonical, start, end)`` for each listing of all
    its parts together, in any order (up to five parts), joined by 、 和 与 及 or nothing. The text is taken
    as Simplified (normalise first). This is the licence for linking, e.g. 自治、法治、德治相结合 -> 三治融合.

    >>> spelled_out_formulations("健全自治、法治、德治相结合的乡村治理体系")
    [('三治融合', 2, 10)]
    >>> spelled_out_formulations("坚持法治和德治")
    []
    """
    hits = []
    for canonical, rx in _spelled_out_rx():
        hits += [(canonical, m.start(), m.end()) for m in rx.finditer(text)]
    return sorted(hits, key=lambda h: (h[1], h[0]))
