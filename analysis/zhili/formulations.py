"""Numbered formulations (提法) and quoted key phrases in policy texts.

Chinese policy discourse condenses programmes into numbered formulations
(四个全面, 五大导向, 三降三升, 一张网、五统一 …) and marks key phrases with quotes
(“市域社会治理现代化”). :func:`extract_formulations` finds both, with offsets into
the text as given (Traditional or Simplified); :func:`formulation_table` counts
them over a corpus.

Grammar (N = a count: 两/二…九, 十, 十一…九十九 or Arabic 1–99; 一 only where said)
------------------------------------------------------------------------------
1. *Quoted*: text inside “…” 「…」 『…』 "…" ‘…’. If it starts with a count
   (一/百/千/万 allowed here) and is at most 15 characters, it is ``numbered``
   (“五进”, “三个100%”, “一张网、五统一”, “十四五”); otherwise ``quoted``.
   Numbered formulations inside a longer quote are found as well.
2. *Series*: short numbered items joined by 、 (两手抓、两手硬、两促进), each
   N + 1–2 Han characters; the last item is as long as the first (longer items
   such as 四个意识、四个自信 are separate formulations). Kept when all
   items share the count, or at least one has a classifier or category word.
3. *Pairs*: N X N Y (三降三升, 两学一做, 四位一体), N X N Y N Z (三去一降一补),
   and 一X多Y (一综多专), X and Y single non-numeral characters, X ≠ Y.
4. *Classifier*: N (not 一) + a classifier 个 大 项 条 级 种 类 张 支 套 手 位 +
   a head: the next jieba word (+ the word after it when that is a typical head
   noun such as 中心/理念/原则/工程: 四级综治中心, 五大发展理念); a head 一…
   takes its noun along (五个一工程); a negation takes the verb (四个不摘);
   or a percentage (三个100%).
5. *Category*: N (not 一) + 统一/到位/进/化/农/稳/保/降/升 at a word end (五统一).

Not formulations (the stoplists below): plain quantities and times (三个月, 十个
百分点, 2019年, 两位数), enumerations (一是/二是, heading 一、), ordinals (第一),
words with 一 (一些, 一起, 一定, 统一, 进一步 …), idioms (一心一意, 四面八方),
party congresses (二十大), generic heads (三个方面).

Canonical form (:func:`canonical_formulation`): Simplified script (OpenCC t2s),
full-width ASCII to half-width, whitespace and 、 removed, a count written in
Arabic digits before a Han character becomes Chinese (3个100% → 三个100%; the
100% stays), and 二 before a classifier becomes the conventional 两 (二个维护 →
两个维护). Otherwise the written form is kept (两 stays 两).

>>> [f.canonical for f in extract_formulations("坚持“兩個維護”，实现三降三升。")]
['两个维护', '三降三升']
"""

from __future__ import annotations

import hashlib
from array import array
import json
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .corpus import text_batches
from .errors import E, W, ZhiliError, ZhiliWarning, warning_text
from .files import replacing
from .parallel import n_workers, start_workers
from .docvars import to_year
from .normalize import normalize

if TYPE_CHECKING:
    from .corpus import Corpus
    from .segment import Segmenter, SegmenterConfig

__all__ = [
    "Formulation",
    "canonical_formulation",
    "extract_all",
    "extract_formulations",
    "formulation_counts",
    "formulation_examples",
    "formulation_table",
    "formulation_tables",
    "kwic_formulation",
]



@dataclass(frozen=True)
class Formulation:
    """One formulation found in a text; ``text == source[start:end]``."""

    text: str
    canonical: str
    kind: str  # 'numbered' | 'quoted' | 'spelled_out' (the parts of a linked formulation, listed)
    start: int
    end: int


# --- character classes (both scripts) -------------------------------------
_HAN = r"\u4e00-\u9fff"
_DIGIT_CN = "一二三四五六七八九"
_NUMERAL_CHARS = "一二三四五六七八九十两兩〇零百千万萬"
_CLASSIFIERS = "个個大项項条條级級种種类類张張支套手位"
_COUNTED_CLASSIFIERS = "个個项項条條种種类類张張支套"  # never the X of a pair: 五个一工程
_COUNT = r"(?:[二三四五六七八九]?十[一二三四五六七八九]?|[二三四五六七八九两兩])"
_ARABIC = r"(?<![0-9.．])[1-9][0-9]?(?![0-9.．%])"
# a count may not continue a number, an ordinal, or a demonstrative
_NOT_BEFORE = r"(?<![0-9０-９一二三四五六七八九十百千万萬两兩〇零第每前近这這那其几幾数數多余餘逾约約另头頭哪])"
_START_RE = re.compile(_NOT_BEFORE + rf"(?:{_COUNT}|一|{_ARABIC})")
_COUNT_RE = re.compile(rf"{_COUNT}|一|{_ARABIC}")
_QUOTE_RES = [
    re.compile(r"“([^“”\n]{1,200})”"),
    re.compile(r"「([^「」\n]{1,200})」"),
    re.compile(r"『([^『』\n]{1,200})』"),
    re.compile(r'"([^"\n]{1,200})"'),
    re.compile(r"‘([^‘’\n]{1,200})’"),
]
_HAN_RE = re.compile(f"[{_HAN}]")
_HAN_RUN_RE = re.compile(f"[{_HAN}]+")
_PERCENT_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?[%％]")
NUMBERED_QUOTE_MAX = 15

# --- stoplists (Simplified; compared after t2s) ---------------------------
#: heads that make a count a plain quantity (三个月, 十个百分点, 三个方面)
GENERIC_HEADS = frozenset(
    "方面 百分点 个月 月 年 小时 季度 星期 周 天 日 工作日 人 人次 倍 以上 以下 左右 "
    "部分 阶段 层次 环节 问题 领域 地方 国家 城市 地区 县 区 乡镇 村 省 市 项目 企业 "
    "单位 部门 批次 方向 类型 种类 时期 步骤 特点 原因 条件 因素 重点 内容 文件 "
    "会议 同志 代表团 小组 班子 标准 以内 之一 次 多 余 数 位数".split()
)
#: characters that make N + X a time or unit, not a formulation (三年, 五次)
UNIT_CHARS = frozenset("年月日号時时点點天周週岁歲次元倍成分秒届屆%％")
#: multi-character units after a count (三公里, 五个百分点)
UNIT_WORDS = ("公里", "公顷", "平方", "千米", "小时", "分钟", "个月", "个百分点", "万", "亿")
#: function characters that are never the X or Y of a pair (统一的多民族)
FUNCTION_CHARS = frozenset("的地得之和与及在是了为以而或于也都就")
#: words starting with a count that are not formulations
NOT_NUMBERED = frozenset(
    "一些 一起 一定 一直 一般 一线 一系列 一体化 一把手 一方面 一是 一切 一致 一样 "
    "一同 一度 一旦 一再 一律 一向 一共 一点 一下 一次 一道 一贯 一流 一批 一步 一番 "
    "二是 三是 四是 五是 六是 七是 八是 九是 十是 万一 千万 百姓 两岸 三峡".split()
)
IDIOMS = frozenset(
    "一心一意 一草一木 一点一滴 一言一行 一举一动 一朝一夕 一丝一毫 一针一线 一砖一瓦 "
    "一模一样 一板一眼 一五一十 一唱一和 一张一弛 一问一答 一生一世 一心一德 三番五次 "
    "三令五申 三心二意 四面八方 五花八门 七上八下 七嘴八舌 七手八脚 十全十美 一清二楚 "
    "一干二净 一来二去 一穷二白 三年五载 一举两得 一石二鸟 四通八达 五湖四海 三头六臂 "
    "三教九流 九牛一毛 一波三折 三长两短 三言两语 三天两头 一年一度 一日三餐".split()
)
#: nouns that extend a head by one word (四级综治中心, 五大发展理念)
HEAD_NOUNS = frozenset(
    "中心 体系 理念 原则 工程 行动 机制 平台 制度 格局 清单 措施 计划 任务 目标 "
    "建设 改革 攻坚 保障 队伍 干部 主张 实事 产业 战略 精神 经验 模式 方略".split()
)
CATEGORY_WORDS = ("统一", "到位", "进", "化", "农", "稳", "保", "降", "升")
_NEGATIONS = frozenset({"不", "没有", "无"})
_BAD_HEAD_POS = frozenset({"d", "r", "p", "c", "u", "uj", "ul", "ud", "ug", "uz", "uv", "t", "f", "q", "x", "y", "e", "o", "m"})

_CN_DIGITS = "零一二三四五六七八九"


@lru_cache(maxsize=1 << 16)
def _simplified(s: str) -> str:
    return normalize(s)


def _arabic_to_cn(match: re.Match[str]) -> str:
    n = int(match.group(0))
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def canonical_formulation(s: str) -> str:
    """Normalise a formulation so that variants compare equal (rules: module docstring).

    >>> canonical_formulation("四個全面"), canonical_formulation("３个100％"), canonical_formulation("二个维护")
    ('四个全面', '三个100%', '两个维护')
    >>> canonical_formulation("一張網、五統一")
    '一张网五统一'
    """
    s = re.sub(r"[\s、]+", "", _simplified(s))
    s = re.sub(rf"(?<![0-9.])[1-9][0-9]?(?=[{_HAN}])", _arabic_to_cn, s)
    return re.sub(r"(?<![一二三四五六七八九十百千万])二(?=[个项条种类张手大])", "两", s)


# --- the grammar -----------------------------------------------------------
def _count_end(text: str, pos: int) -> int:
    """End of the count starting at ``pos`` (or ``pos`` when there is none)."""
    m = _COUNT_RE.match(text, pos)
    return m.end() if m else pos


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


Tagger = Callable[[str], "list[tuple[str, str]]"]


def _tagger(segmenter: Segmenter | SegmenterConfig | None) -> Tagger:
    """(word, POS) of a short window, through zhili's :class:`~zhili.segment.Segmenter` (so the
    lexicon, user dictionaries and backend of the run apply), memoised per window."""
    from .segment import Segmenter, SegmenterConfig, get_segmenter

    if not isinstance(segmenter, Segmenter):
        segmenter = get_segmenter(segmenter if segmenter is not None else SegmenterConfig())
    return _window_tagger(segmenter)


@lru_cache(maxsize=8)
def _window_tagger(seg: Segmenter) -> Tagger:
    return lru_cache(maxsize=1 << 16)(seg.tag)


def _head(text: str, pos: int, tag: Tagger) -> int:
    """End of the formulation head starting at ``pos``, or -1 when it is no head."""
    m = _PERCENT_RE.match(text, pos)
    if m:
        return m.end()
    window = _HAN_RUN_RE.match(text, pos, pos + 8)
    if not window:
        return -1
    simple = _simplified(window.group(0))
    tokens = tag(simple if len(simple) == len(window.group(0)) else window.group(0))
    (w1, pos1), rest = tokens[0], tokens[1:]
    w2 = rest[0][0] if rest else ""
    end = pos + len(w1)
    if w1 in _NEGATIONS:
        return end + len(w2) if w2 and len(w1) + len(w2) <= 4 else -1
    if w1.startswith("一"):
        return end + len(w2) if len(w1) == 1 and w2 and len(w2) <= 2 else end
    if w1 in GENERIC_HEADS or pos1 in _BAD_HEAD_POS:
        return -1
    if len(w1) == 1:  # 两个稳 only at a word end; 五个人民 is no head
        return end if end >= len(text) or not _is_han(text[end]) else -1
    if w2 in HEAD_NOUNS and len(w1) + len(w2) <= 5:
        return end + len(w2)
    return end


def _classifier_form(text: str, start: int, count_end: int, tag: Tagger) -> int:
    """N + classifier + head (四个全面, 四级综治中心) → end, or -1."""
    if count_end >= len(text) or text[count_end] not in _CLASSIFIERS:
        return -1
    count = _simplified(text[start:count_end])
    clf = _simplified(text[count_end])
    if count == "一" or (clf == "大" and len(count) > 1 and count != "十") or (count == "二" and clf in "手级"):
        return -1  # 一个…, 二十大 (a party congress), 二手车, 二级以上
    end = _head(text, count_end + 1, tag)
    if end < 0:
        return -1
    head = _simplified(text[count_end + 1 : end])
    if head in GENERIC_HEADS:
        return -1
    if count.isascii() and not (head.endswith("%") or head.endswith(tuple(HEAD_NOUNS))):
        return -1  # Arabic counts are mostly quantities: keep 3个100%, 50项民生实事
    return end


def _category_form(text: str, start: int, count_end: int) -> int:
    """N + category word at a word end (五统一, 五进) → end, or -1."""
    if _simplified(text[start:count_end]) == "一":
        return -1
    tail = _simplified(text[count_end : count_end + 3])
    for word in CATEGORY_WORDS:
        end = count_end + len(word)
        if tail.startswith(word) and (end >= len(text) or not _is_han(text[end])):
            return end
    return -1


def _pair_form(text: str, start: int, count_end: int) -> int:
    """N X N Y [N Z] and 一X多Y (三降三升, 三去一降一补, 一综多专) → end, or -1."""
    parts: list[tuple[str, str]] = []  # (count, character)
    pos = start
    while len(parts) < 3:
        c_end = _count_end(text, pos)
        if c_end == pos and len(parts) == 1 and parts[0][0] == "一" and text[pos : pos + 1] == "多":
            c_end = pos + 1
        if c_end == pos or c_end >= len(text):
            break
        ch = text[c_end]
        if not _is_han(ch) or ch in _NUMERAL_CHARS or ch in "多是" or ch in _COUNTED_CLASSIFIERS:
            break
        parts.append((_simplified(text[pos:c_end]), _simplified(ch)))
        pos = c_end + 1
    if len(parts) < 2:
        return -1
    heads = [h for _, h in parts]
    form = _simplified(text[start:pos])
    if (
        len(set(heads)) < len(heads)
        or any(h in UNIT_CHARS or h in FUNCTION_CHARS or c + h in NOT_NUMBERED for c, h in parts)
        or form[:4] in IDIOMS
        or text[pos : pos + 1] == "化"  # 长三角一体化
    ):
        return -1
    return pos


def _series_form(text: str, start: int) -> int:
    """Short items N+1–2 Han joined by 、 (两手抓、两手硬、两促进) → end, or -1.

    Longer items are formulations of their own: 四个意识、四个自信 stay two.
    """
    items: list[tuple[int, int, int]] = []  # (start, count_end, end)
    pos = start
    while True:
        c_end = _count_end(text, pos)
        run = _HAN_RUN_RE.match(text, c_end)
        if c_end == pos or not run or text[c_end] in _NUMERAL_CHARS:
            break
        if run.end() < len(text) and text[run.end()] == "、" and run.end() - c_end <= 2:
            items.append((pos, c_end, run.end()))
            pos = run.end() + 1
            continue
        if items:  # the last item: as long as the first one
            first_len = items[0][2] - items[0][1]
            items.append((pos, c_end, c_end + min(first_len, run.end() - c_end)))
        break
    if len(items) < 2:
        return -1
    counts = {_simplified(text[s:c]) for s, c, _ in items}
    tails = [_simplified(text[c:e]) for _, c, e in items]
    if any(t[0] in UNIT_CHARS or t[0] == "是" or t in GENERIC_HEADS or t in _CLASSIFIERS for t in tails):
        return -1
    typed = any(
        t[0] in "个大项条级种类张支套手位" or t.startswith(CATEGORY_WORDS) for t in tails
    )
    return items[-1][2] if len(counts) == 1 or typed else -1


def _numbered_spans(text: str, tag: Tagger, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of unquoted numbered formulations in text[lo:hi]."""
    hi = len(text) if hi is None else hi
    spans, taken_until = [], lo
    for m in _START_RE.finditer(text, lo, hi):
        start, count_end = m.start(), m.end()
        if start < taken_until:
            continue
        end = _series_form(text, start)
        if end < 0:
            end = _pair_form(text, start, count_end)
        if end < 0:
            end = _classifier_form(text, start, count_end, tag)
            if end < 0:
                end = _category_form(text, start, count_end)
        if 0 <= end <= hi and _simplified(text[start:end]) not in NOT_NUMBERED:
            spans.append((start, end))
            taken_until = end
    return spans


def _quote_is_numbered(content: str) -> bool:
    """Does quoted text read as a numbered formulation (“五进”, “十四五”, “一带一路”)?"""
    c = canonical_formulation(content)
    if not c or len(c) > NUMBERED_QUOTE_MAX or c[0] not in _NUMERAL_CHARS:
        return False
    if any(c.startswith(w) for w in NOT_NUMBERED):
        return False
    rest = c.lstrip(_NUMERAL_CHARS)
    if not rest:
        return len(c) >= 2 and c[0] in _DIGIT_CN + "十"  # 十四五, 八五: plan periods
    if rest[0] in UNIT_CHARS or rest.startswith(UNIT_WORDS):
        return False
    if rest[0] in "个大项条级种类张支套" and (rest[1:] in GENERIC_HEADS or rest[1:2] in UNIT_CHARS):
        return False
    return True


def extract_formulations(
    text: str, quoted: bool = True, min_quote_len: int = 2, max_quote_len: int = 20,
    segmenter: Segmenter | SegmenterConfig | None = None,
) -> list[Formulation]:
    """Numbered formulations (and, if ``quoted``, quoted phrases) in ``text``, by position.

    Heads of classifier forms (四个 + 全面) are cut by ``segmenter`` (a
    :class:`~zhili.segment.Segmenter` or its config; default: zhili's default segmenter),
    so the lexicon and user dictionaries of a run decide them too.

    >>> [(f.text, f.kind) for f in extract_formulations("樹立“五大導向”，確立“大平安”理念")]
    [('五大導向', 'numbered'), ('大平安', 'quoted')]
    """
    tag = _tagger(segmenter)
    found: list[Formulation] = []
    covered: list[tuple[int, int]] = []
    for quote_re in _QUOTE_RES:
        for m in quote_re.finditer(text):
            content, start, end = m.group(1), m.start(1), m.end(1)
            stripped = content.strip()
            if not stripped or (quote_re.pattern[0] in "\"‘" and not _HAN_RE.search(stripped)):
                continue
            start += len(content) - len(content.lstrip())
            end = start + len(stripped)
            if _quote_is_numbered(stripped):
                found.append(Formulation(stripped, canonical_formulation(stripped), "numbered", start, end))
                covered.append((start, end))
            elif quoted and min_quote_len <= len(stripped) <= max_quote_len:
                found.append(Formulation(stripped, canonical_formulation(stripped), "quoted", start, end))
    covered.sort()
    spans, lo = [], 0
    for q_start, q_end in [*covered, (len(text), len(text))]:
        spans += _numbered_spans(text, tag, lo, q_start)
        lo = max(lo, q_end)
    for start, end in spans:
        surface = text[start:end]
        found.append(Formulation(surface, canonical_formulation(surface), "numbered", start, end))
    return sorted(found, key=lambda f: (f.start, f.end))


def kwic_formulation(text: str, f: Formulation, window: int = 20) -> str:
    """``window`` characters either side of ``f``, the formulation in 【】; line breaks → spaces.

    >>> t = "推動實現四級綜治中心全覆蓋"
    >>> kwic_formulation(t, extract_formulations(t)[0], window=4)
    '推動實現【四級綜治中心】全覆蓋'
    """
    left = text[max(0, f.start - window) : f.start]
    right = text[f.end : f.end + window]
    return re.sub(r"[\r\n]+", " ", left) + "【" + f.text + "】" + re.sub(r"[\r\n]+", " ", right)


#: bump when the grammar or the stoplists change (part of every cache key of extracted formulations)
EXTRACTOR_VERSION = 2


#: Texts handled together by :func:`extract_all`: the most whose formulations are held at once.
EXTRACT_BATCH = 2_000
#: Characters of text handled together by :func:`extract_all` (long documents make short batches).
EXTRACT_BATCH_CHARS = 8_000_000
#: Fewer uncached texts than this in a batch are extracted in this process (a worker costs more).
PARALLEL_MIN_TEXTS = 200


def extract_all(texts: Sequence[str], segmenter: Segmenter | SegmenterConfig | None = None,
                cache: bool | str | Path = True, n_jobs: int = 1) -> Iterator[list[Formulation]]:
    """:func:`extract_formulations` of every text, in order, each read from or written to the
    cache (one JSON file of plain values per text; a corrupt or foreign file is recomputed).

    Texts are taken ``EXTRACT_BATCH`` (or ``EXTRACT_BATCH_CHARS`` characters) at a time, so memory
    does not grow with the corpus or with its documents' length; the
    uncached texts of a batch are shared among ``n_jobs`` processes (:mod:`zhili.parallel`).

    >>> [[f.canonical for f in fs] for fs in extract_all(["四个全面", "没有"], cache=False)]
    [['四个全面'], []]
    """
    from .segment import Segmenter, SegmenterConfig, cache_root, get_segmenter

    config = segmenter.config if isinstance(segmenter, Segmenter) else segmenter or SegmenterConfig()
    seg = segmenter if isinstance(segmenter, Segmenter) else get_segmenter(config)
    folder = None if cache is False else (cache_root() if cache is True else Path(cache)) / "formulations"
    prefix = f"{EXTRACTOR_VERSION}|{seg.fingerprint}|".encode()
    n_workers_ = n_workers(n_jobs)
    for batch in text_batches(texts, EXTRACT_BATCH, EXTRACT_BATCH_CHARS):
        paths: list[Path | None] = [None] * len(batch)
        found: list[list[Formulation] | None] = [None] * len(batch)
        if folder is not None:
            for i, text in enumerate(batch):
                key = hashlib.sha256(prefix + text.encode("utf-8", "surrogatepass")).hexdigest()
                paths[i] = folder / key[:2] / f"{key}.json"
                found[i] = _read_found(paths[i], batch[i])
        todo = [i for i, f in enumerate(found) if f is None]
        groups = [todo]
        if n_workers_ > 1 and len(todo) >= PARALLEL_MIN_TEXTS:
            groups = [g.tolist() for g in np.array_split(np.asarray(todo), n_workers_)]
        workers = start_workers(_extract_spans, [(config, [batch[i] for i in g]) for g in groups[1:]])
        results = [_extract_spans(seg, [batch[i] for i in groups[0]]), *(result() for result in workers)]
        for group, spans in zip(groups, results):
            for i, rows in zip(group, spans):
                found[i] = [Formulation(batch[i][a:b], canonical, kind, a, b) for canonical, kind, a, b in rows]
                if paths[i] is not None:
                    try:
                        with replacing(paths[i], durable=False) as tmp:
                            tmp.write_text(json.dumps({"rows": rows, "sha256": _rows_digest(paths[i], rows)},
                                                      ensure_ascii=False),
                                           encoding="utf-8")
                    except OSError:
                        pass  # a read-only cache only costs time
        yield from found  # type: ignore[misc]


def _spans(found: Sequence[Formulation]) -> list[list]:
    return [[f.canonical, f.kind, f.start, f.end] for f in found]


def _extract_spans(segmenter: Segmenter | SegmenterConfig, texts: list[str]) -> list[list[list]]:
    """One process's share of :func:`extract_all`: plain ``[canonical, kind, start, end]`` rows
    (a worker is given the configuration and loads its own segmenter, or inherits it when forked)."""
    from .segment import Segmenter, get_segmenter

    seg = segmenter if isinstance(segmenter, Segmenter) else get_segmenter(segmenter)
    return [_spans(extract_formulations(text, segmenter=seg)) for text in texts]


def _rows_digest(path: Path, rows: list[list]) -> str:
    """SHA-256 of an entry's name (its text's key) and rows: rows changed, or copied under another key, do not match."""
    payload = f"{path.name}|{json.dumps(rows, ensure_ascii=False)}"
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def _read_found(path: Path, text: str) -> list[Formulation] | None:
    """The formulations cached for ``text``, or None when the file is missing, damaged or moved
    (its name and rows are not the ones whose SHA-256 it records) or does not fit the text."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        rows = entry["rows"]
        if entry["sha256"] != _rows_digest(path, rows):
            return None
        found = []
        for canonical, kind, start, end in rows:
            if not (isinstance(canonical, str) and kind in ("numbered", "quoted") and isinstance(start, int)
                    and isinstance(end, int) and 0 <= start < end <= len(text)):
                return None
            found.append(Formulation(text[start:end], canonical, kind, start, end))
        return found
    except (OSError, ValueError, TypeError, KeyError):
        return None


def formulation_counts(texts: Corpus | Sequence[str], doc_ids: Sequence[str] | None = None, *,
                       segmenter: Segmenter | SegmenterConfig | None = None,
                       cache: bool | str | Path = True, n_jobs: int = 1) -> pd.DataFrame:
    """Long table ``doc_id, canonical, count`` of all formulations per document.

    >>> from zhili.corpus import corpus_from_texts
    >>> formulation_counts(corpus_from_texts(["“四個全面”與四个全面"], doc_ids=["d1"])).to_dict("records")
    [{'doc_id': 'd1', 'canonical': '四个全面', 'count': 2}]
    """
    texts, doc_ids, _ = _documents(texts, doc_ids, None, "formulation_counts")
    rows = [
        (doc_id, canonical, n)
        for doc_id, found in zip(doc_ids, extract_all(texts, segmenter, cache, n_jobs))
        for canonical, n in Counter(f.canonical for f in found).items()
    ]
    return pd.DataFrame(rows, columns=["doc_id", "canonical", "count"])


def formulation_table(
    corpus: Corpus | Sequence[str],
    doc_ids: Sequence[str] | None = None,
    docvars: pd.DataFrame | None = None,
    by: Sequence[str] | str = (),
    year_var: str = "year",
    *,
    segmenter: Segmenter | SegmenterConfig | None = None,
    cache: bool | str | Path = True,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """One row per canonical formulation, most frequent first.

    ``corpus`` is a :class:`~zhili.corpus.Corpus` (any unit: paragraphs are joined back into
    their documents). Columns: formulation (most frequent surface form), canonical, kind,
    count, n_spelled_out, n_docs, first_year (when the corpus has ``year_var``), first_doc (earliest year,
    then input order), example (KWIC of its first use in first_doc), and for each ``by``
    variable ``n_<var>`` and ``<var>s`` (groups, '、'-joined).

    Linked formulations (:func:`zhili.lexicon.formulation_links`) are counted under one canonical
    form: its other numbered forms (三治, 三治结合 -> 三治融合) and, where the text lists all its
    parts together (自治、法治、德治), the spelled-out form; ``n_spelled_out`` says how many of
    ``count`` were spelled out.

    Missing values never crash and never form a group: a year that is empty, unreadable
    (``未知``) or absent leaves the document out of ``first_year`` (a date such as
    ``2019-05-01`` counts as 2019); a document without a ``by`` value is in no group. Both
    are counted in a :class:`~zhili.errors.ZhiliWarning` (W170, W171).

    Formulations are extracted once per document and kept in the cache folder (``cache``: as
    in :func:`zhili.tokens.tokens`), keyed by the text, the segmenter and the extractor version;
    ``n_jobs`` processes share the uncached documents (:func:`extract_all`).
    The old form ``formulation_table(texts, doc_ids, docvars, by=...)`` still works, with a
    ``DeprecationWarning``.

    >>> from zhili.corpus import corpus_from_texts
    >>> c = corpus_from_texts(["五大導向", "坚持五大导向、五大导向"], doc_ids=["a", "b"])
    >>> formulation_table(c)[["formulation", "count", "n_docs"]].values.tolist()
    [['五大导向', 3, 2]]
    """
    by = [by] if isinstance(by, str) else list(by)
    texts, doc_ids, dv = _documents(corpus, doc_ids, docvars, "formulation_table")
    tally = _Tally(texts, doc_ids, dv, by, year_var)
    for i, found in enumerate(extract_all(texts, segmenter, cache, n_jobs)):
        tally.add(i, found)
    return tally.table()


def formulation_tables(corpus: Corpus, by: Sequence[str] | str = (), year_var: str = "year", per: int = 3,
                       window: int = 20, *, segmenter: Segmenter | SegmenterConfig | None = None,
                       cache: bool | str | Path = True, n_jobs: int = 1) -> dict[str, pd.DataFrame]:
    """``formulations`` (:func:`formulation_table`) and ``formulation_examples``
    (:func:`formulation_examples`) of a corpus from one pass over its documents: each text is
    read and its formulations extracted (or read from the cache) once.

    >>> from zhili.corpus import corpus_from_texts
    >>> t = formulation_tables(corpus_from_texts(["坚持五大导向", "五大導向"], doc_ids=["a", "b"]))
    >>> t["formulations"][["canonical", "count"]].values.tolist(), len(t["formulation_examples"])
    ([['五大导向', 2]], 2)
    """
    by = [by] if isinstance(by, str) else list(by)
    texts, doc_ids, dv = _documents(corpus, None, None, "formulation_tables")
    tally, examples = _Tally(texts, doc_ids, dv, by, year_var), _Examples(per, window)
    for i, found in enumerate(extract_all(texts, segmenter, cache, n_jobs)):
        tally.add(i, found)
        examples.add(texts[i], doc_ids[i], found)
    return {"formulations": tally.table(), "formulation_examples": examples.table()}


class _Tally:
    """The rows of :func:`formulation_table`, gathered document by document (``add``)."""

    def __init__(self, texts: Sequence[str], doc_ids: Sequence[str], dv: pd.DataFrame, by: list[str],
                 year_var: str) -> None:
        for var in by:
            if var not in dv.columns:
                raise ZhiliError(E.E012, var=var, available=", ".join(map(str, dv.columns)) or "(none)")
        self.texts, self.doc_ids, self.by = texts, doc_ids, by
        self.has_year = year_var in dv.columns
        self.years = _year_values(dv[year_var], year_var) if self.has_year else np.full(len(texts), np.nan)
        self.groups = {var: _group_values(dv[var], var) for var in by}  # arrays once, not .iloc per formulation
        self.order_year = np.where(np.isnan(self.years), np.inf, self.years)
        self.surfaces: dict[str, Counter[str]] = defaultdict(Counter)
        self.kinds: dict[str, Counter[str]] = defaultdict(Counter)
        self.docs: dict[str, array] = defaultdict(lambda: array("q"))  # canonical -> indices of the documents using it
        self.first_use: dict[str, tuple[float, int, Formulation]] = {}  # canonical -> (year, doc, use): earliest document
        self.spelled: dict[str, Counter[str]] = defaultdict(Counter)
        self.linked = _linked_forms()

    def add(self, i: int, found: Sequence[Formulation]) -> None:
        """Count the formulations ``found`` in document ``i``."""
        for f in sorted([*found, *_linked_mentions(self.texts[i], found)], key=lambda f: (f.start, f.end)):
            canonical = self.linked.get(f.canonical, f.canonical)
            self.surfaces[canonical][f.text] += 1
            if f.kind == "spelled_out":  # named by a numbered form when there is one
                self.spelled[canonical][f.text] += 1
            self.kinds[canonical][f.kind] += 1
            uses = self.docs[canonical]
            if not uses or uses[-1] != i:
                uses.append(i)
                first = self.first_use.get(canonical)
                if first is None or self.order_year[i] < first[0]:  # earliest year, then input order
                    self.first_use[canonical] = (self.order_year[i], i, f)

    def table(self) -> pd.DataFrame:
        rows = []
        for canonical, uses in self.docs.items():
            used = np.frombuffer(uses, dtype=np.int64)
            _, first, first_found = self.first_use[canonical]
            known = self.years[used][~np.isnan(self.years[used])]
            surfaces, kinds = self.surfaces[canonical], self.kinds[canonical]
            row = {
                "formulation": ((surfaces - self.spelled[canonical]) or surfaces).most_common(1)[0][0],
                "canonical": canonical,
                "kind": next((k for k, _ in kinds.most_common() if k != "spelled_out"), "spelled_out"),
                "count": sum(surfaces.values()),
                "n_spelled_out": kinds["spelled_out"],
                "n_docs": len(uses),
                "first_year": int(known.min()) if len(known) else None,
                "first_doc": self.doc_ids[first],
                "example": kwic_formulation(self.texts[first], first_found),
            }
            for var in self.by:
                values = sorted({v for v in self.groups[var][used] if v is not None})
                row[f"n_{var}"] = len(values)
                row[f"{var}s"] = "、".join(values)
            rows.append(row)
        columns = ["formulation", "canonical", "kind", "count", "n_spelled_out", "n_docs", "first_year", "first_doc",
                   "example"]
        columns += [c for var in self.by for c in (f"n_{var}", f"{var}s")]
        table = pd.DataFrame(rows, columns=columns)
        if not self.has_year:
            table = table.drop(columns="first_year")
        else:
            table["first_year"] = pd.array(table["first_year"].tolist(), dtype="Int64")
        for var in self.by:
            table[f"n_{var}"] = table[f"n_{var}"].astype("int64")
        return table.sort_values(["count", "canonical"], ascending=[False, True], ignore_index=True)


class _Examples:
    """The rows of :func:`formulation_examples`, gathered document by document (``add``)."""

    def __init__(self, per: int, window: int) -> None:
        self.per, self.window = per, window
        self.found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.seen: set[tuple[str, str]] = set()

    def add(self, text: str, doc_id: str, uses: Sequence[Formulation]) -> None:
        for f in uses:
            if len(self.found[f.canonical]) < self.per and (f.canonical, doc_id) not in self.seen:
                self.seen.add((f.canonical, doc_id))
                self.found[f.canonical].append((doc_id, kwic_formulation(text, f, self.window)))

    def table(self) -> pd.DataFrame:
        rows = [(canonical, doc_id, line) for canonical, hits in self.found.items() for doc_id, line in hits]
        return pd.DataFrame(rows, columns=["canonical", "doc_id", "kwic"])


@lru_cache(maxsize=1)
def _linked_forms() -> dict[str, str]:
    """Other numbered forms of a linked formulation -> its canonical form (三治 -> 三治融合)."""
    from .lexicon import formulation_links

    return {canonical_formulation(v): link.canonical for link in formulation_links().values() for v in link.variants}


@lru_cache(maxsize=1)
def _linked_form_rx() -> re.Pattern[str]:
    from .lexicon import formulation_links

    forms = {f for link in formulation_links().values() for f in link.forms}
    return re.compile("|".join(map(re.escape, sorted(forms, key=len, reverse=True))))


def _linked_mentions(text: str, found: Sequence[Formulation]) -> list[Formulation]:
    """Mentions of linked formulations (:func:`zhili.lexicon.formulation_links`) that the extractor
    did not find: their numbered forms written out (三治融合, 放管服), kind 'numbered', and listings
    of all their parts together (自治、法治、德治), kind 'spelled_out' — the text licenses the link."""
    from .lexicon import spelled_out_formulations

    simple = _simplified(text)
    if len(simple) != len(text):  # a conversion that changed lengths: positions would not match
        simple = text
    taken = [(f.start, f.end) for f in found]
    out = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in _linked_form_rx().finditer(simple):
        if free(m.start(), m.end()):
            out.append(Formulation(text[m.start():m.end()], canonical_formulation(m.group()), "numbered",
                                   m.start(), m.end()))
            taken.append((m.start(), m.end()))
    for canonical, a, b in spelled_out_formulations(simple):
        if free(a, b):
            out.append(Formulation(text[a:b], canonical, "spelled_out", a, b))
            taken.append((a, b))
    return out


def _warn(template: str, **fields: object) -> None:
    warnings.warn(warning_text(template, **fields), ZhiliWarning, stacklevel=3)


def _year_values(series: pd.Series, var: str) -> np.ndarray:
    """Years of a docvar column as floats, NaN for missing; missing ones counted in a warning."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        years = series.dt.year.to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        years = series.to_numpy(dtype=float, na_value=np.nan)
        years = np.where((years == np.floor(years)) & (years >= 1000) & (years <= 9999), years, np.nan)
    else:
        years = np.array([np.nan if (y := to_year(v)) is None else y for v in series.tolist()], dtype=float)
    missing = np.isnan(years)
    if missing.any():
        raw = series[missing]
        odd = sorted({str(v) for v in raw.tolist() if not _is_blank(v)})[:3]
        examples = f" (unreadable: {', '.join(repr(v) for v in odd)})" if odd else ""
        _warn(W.W170, n=int(missing.sum()), total=len(years), var=var, examples=examples)
    return years


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _group_values(series: pd.Series, var: str) -> np.ndarray:
    """Group labels of a docvar column as an object array of str, None where missing."""
    values = np.array([None if _is_blank(v) else str(v) for v in series.tolist()], dtype=object)
    n_missing = sum(v is None for v in values)
    if n_missing:
        _warn(W.W171, n=n_missing, total=len(values), var=var)
    return values


def _documents(corpus, doc_ids, docvars, name: str) -> tuple[Sequence[str], list[str], pd.DataFrame]:
    """(texts, doc_ids, docvars aligned to them) from a Corpus, or from the old list form."""
    from .corpus import Corpus

    if isinstance(corpus, Corpus):
        if doc_ids is not None or docvars is not None:
            raise TypeError(f"{name}(corpus, ...) takes the ids and docvars from the corpus; pass by= only")
        return corpus.whole_documents()
    if isinstance(corpus, str) or doc_ids is None:
        raise TypeError(f"{name} takes a zhili Corpus (or, deprecated, texts and doc_ids)")
    warnings.warn(f"{name}(texts, doc_ids, docvars) is deprecated; pass a Corpus: {name}(corpus, by=[...])",
                  DeprecationWarning, stacklevel=3)
    texts, doc_ids = list(corpus), list(doc_ids)
    _check_lengths(texts, doc_ids)
    return texts, doc_ids, _align_docvars(docvars, doc_ids)


def _check_lengths(texts: Sequence[str], doc_ids: Sequence[str]) -> None:
    if len(texts) != len(doc_ids):
        raise ValueError(f"{len(texts)} texts but {len(doc_ids)} doc_ids; give one id per text")


def _align_docvars(docvars: pd.DataFrame | None, doc_ids: Sequence[str]) -> pd.DataFrame:
    """Docvars with one row per document, in the order of ``doc_ids``."""

    if docvars is None:
        return pd.DataFrame(index=range(len(doc_ids)))
    if "doc_id" in docvars.columns:
        indexed = docvars.drop_duplicates("doc_id").set_index("doc_id")
        return indexed.reindex(list(doc_ids)).reset_index(drop=True)
    if len(docvars) != len(doc_ids):
        raise ZhiliError(E.E053, n_rows=len(docvars), n_docs=len(doc_ids))
    return docvars.reset_index(drop=True)


def formulation_examples(texts: Corpus | Sequence[str], doc_ids: Sequence[str] | None = None, per: int = 3,
                         window: int = 20, *, segmenter: Segmenter | SegmenterConfig | None = None,
                         cache: bool | str | Path = True, n_jobs: int = 1) -> pd.DataFrame:
    """Up to ``per`` KWIC lines for each canonical formulation, each from a different
    document, in the original script: ``canonical, doc_id, kwic``.

    >>> from zhili.corpus import corpus_from_texts
    >>> formulation_examples(corpus_from_texts(["堅持“五大導向”。"], doc_ids=["d1"])).values.tolist()
    [['五大导向', 'd1', '堅持“【五大導向】”。']]
    """
    texts, doc_ids, _ = _documents(texts, doc_ids, None, "formulation_examples")
    examples = _Examples(per, window)
    for text, doc_id, uses in zip(texts, doc_ids, extract_all(texts, segmenter, cache, n_jobs)):
        examples.add(text, doc_id, uses)
    return examples.table()
