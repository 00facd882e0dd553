"""Web-text cleaning: what a scraped page carries that its author did not write.

Pure ``str -> str`` steps, composed by :func:`clean` (one document) and :func:`clean_texts`
(a corpus; site boilerplate is found across documents). Each step only deletes characters
(whole lines, markup, or romanisation inserted after Han characters); the text that remains
is in its original script, so KWIC and passages still show what the page said.

* :func:`strip_pinyin_glosses` — ``社會(huì)治理`` → ``社會治理``, ``為(wei) 眾`` → ``為眾``, zhuyin too;
* :func:`strip_markup` — HTML tags, entities, ``<script>``/``<style>``, ``document.write…``, URLs,
  image placeholders, table-markup words (td, tr) between Han text;
* :func:`strip_page_lines` — navigation/breadcrumbs, share/print/font-size buttons, 上一篇/下一篇,
  welcome/copyright/disclaimer lines, document-site page lists;
* :func:`extract_meta` — 来源 | 作者 | 责任编辑 | 发布时间 | 浏览次数 … lines leave the text and
  become fields (the year of a publication date included);
* :func:`boilerplate_lines` — lines repeated verbatim across many documents of one site.

>>> strip_pinyin_glosses("推進市域社會(huì)治理現(xiàn)代化")
'推進市域社會治理現代化'
>>> r = clean("中国长安网 | 责任编辑:张晓婷 | 发布时间: 2021-03-05\\n推进平安建设。\\n分享到：微信 微博")
>>> r.text, r.fields["editor"], r.year, r.removed["removed_meta"] > 0
('推进平安建设。', '张晓婷', 2021, True)
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

Step = Callable[[str], str]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# --------------------------------------------------------------------------- pinyin / zhuyin glosses
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_INITIAL = "(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
_FINAL = ("(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|in|un|vn|ia|ie|iu|ua|uo|ui"
          "|ve|ue|er|a|o|e|i|u|v)")
_SYLLABLE = f"(?:{_INITIAL}{_FINAL}r?|ng|hng|hm|m|n)"
_ONE_SYLLABLE = re.compile(_SYLLABLE)
_SYLLABLES = re.compile(f"(?:{_SYLLABLE})+")
# a bracketed run of Latin letters (tone marks allowed) or bopomofo right after a Han character
_GLOSS = re.compile(
    rf"(?<=[{_HAN}])[(（]\s*(?:(?P<latin>[a-zü{_TONED}]+(?:[ '’-][a-zü{_TONED}]+){{0,7}})"
    r"|(?P<zhuyin>[\u3105-\u312f\u31a0-\u31bfˉˊˇˋ˙]+))\s*[)）](?P<space> (?=[^A-Za-z0-9]))?"
)
_NO_TONE = str.maketrans({"ü": "v"})


def _is_pinyin(gloss: str) -> bool:
    """Toned pinyin of any length, or one toneless syllable (``wei``, ``zhong``)."""
    toned = any(c in _TONED for c in gloss)
    plain = "".join(c for c in unicodedata.normalize("NFD", gloss) if not unicodedata.combining(c))
    words = re.split(r"[ '’-]", plain.translate(_NO_TONE))
    if not toned:
        return len(words) == 1 and bool(_ONE_SYLLABLE.fullmatch(words[0]))
    return all(_SYLLABLES.fullmatch(w) for w in words)


def strip_pinyin_glosses(text: str) -> str:
    """Remove romanisation inserted after Han characters, so the characters rejoin.

    Toned pinyin in either bracket width (``網(wǎng)格``, ``洪濑镇（hónglàizhèn）``), one toneless
    syllable with its trailing space (``為(wei) 眾``) and zhuyin (``國(ㄍㄨㄛˊ)``). Acronyms and
    English stay: ``(GDP)``, ``(APP)``, ``(smart city)``.

    >>> strip_pinyin_glosses("楓橋經(jīng)驗，為(wei) 眾(zhong) 人熟知，國(ㄍㄨㄛˊ)家，城市大脑(City Brain)")
    '楓橋經驗，為眾人熟知，國家，城市大脑(City Brain)'
    """
    if "(" not in text and "（" not in text:
        return text

    def drop(m: re.Match[str]) -> str:
        if m.group("zhuyin") or _is_pinyin(m.group("latin")):
            return ""
        return m.group()

    return _GLOSS.sub(drop, text)


# --------------------------------------------------------------------------- markup and script residue
_MARKUP = re.compile(
    r"<(script|style)\b.*?</\1\s*>"                       # inline JS/CSS blocks
    r"|<!--.*?-->"                                         # comments
    r"|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"            # tags
    r"|(?:document|window)\.write(?:ln)?\s*\((?:[^()]|\([^()]*\))*\)\s*;?"   # document.write(...)
    r"|!\[[^\]]*\]\([^)]*\)"                               # markdown image placeholders ![]()
    r"|https?://[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+"              # URLs
    r"|\bupload_article_image\b|不能读取jquery|不能讀取jquery"
    r"|365bet(?:体育|體育)?"                              # gambling-site names glued into pages
    r"|^[?？]{2,}",                                        # '?' runs where spaces or bullets were
    re.S | re.I | re.M,
)
_ENTITY = re.compile(r"&(?:#\d{1,6}|#x[0-9a-f]{1,5}|[a-z]{2,8});", re.I)
# CSS rules and JS statements left on their own line
_CODE_LINE = re.compile(
    r"^\s*(?:(?:var|let|const|function)\b.*[;{}]|[.#]?[\w-]+\s*\{[^{}]*:[^{}]*\}|[\w.$]+\s*\(.*\)\s*;|[{}();]+)\s*$",
    re.M)
# table-markup words left between Han characters (…数据td人口tr…)
_TABLE_WORD = re.compile(rf"(?<=[{_HAN}\s])(?:td|tr|th|tbody|thead|nbsp|br)(?=[{_HAN}\s])", re.I)


_MARKUP_HINTS = ("<", "&", "://", "![", "{", "}", ";", "365")
#: Latin words of page code (document.write, upload_article_image, jquery) and table markup
_MARKUP_WORDS = frozenset({"write", "writeln", "upload", "jquery", "td", "tr", "th", "tbody", "thead", "br", "nbsp"})
_LATIN_RUN = re.compile(r"[A-Za-z]+")


def _may_hold_markup(text: str) -> bool:
    """A quick test (substring checks and one scan for Latin words) that lets most plain prose
    skip :func:`strip_markup`'s patterns; it may say yes to text that holds none."""
    if any(hint in text for hint in _MARKUP_HINTS) or text[:2] in ("??", "？？", "?？", "？?"):
        return True
    return any(word.lower() in _MARKUP_WORDS for word in _LATIN_RUN.findall(text))


def strip_markup(text: str) -> str:
    """Remove HTML tags, comments, entities, inline script/style, ``document.write(…)``, URLs,
    image placeholders and table-markup words (td, tr) stranded between Han text.

    >>> strip_markup("<p>平安&nbsp;建设</p><script>var a=1;</script>document.writeln('x');网格td员")
    '平安 建设网格员'
    """
    if not _may_hold_markup(text):
        return text
    text = _MARKUP.sub("", text)
    text = _ENTITY.sub(lambda m: " " if m.group().lower() in ("&nbsp;", "&#160;") else html.unescape(m.group()), text)
    text = _CODE_LINE.sub("", text)
    return _TABLE_WORD.sub("", text)


# --------------------------------------------------------------------------- page furniture lines
# words that navigation, share and button lines are made of (Simplified and Traditional)
_NAV_WORDS = sorted(set("""
首页 首頁 主页 主頁 正文 返回 返回首页 返回首頁 返回顶部 返回頂部 顶部 頂部 分享 分享到 转发 轉發 打印 打印本页 打印本頁 打印本文 关闭 關閉 关闭窗口
關閉窗口 上一篇 下一篇 上一页 下一页 上一頁 下一頁 收藏 加入收藏 设为首页 設為首頁 字号 字號 字体 字體 大 中 小 默认 默認 微信 微博 朋友圈 QQ
QQ空间 QQ空間 空间 空間 扫一扫 掃一掃 二维码 二維碼 English Deutsch 无障碍浏览工具 無障礙瀏覽工具 无障碍 無障礙 去除导航 去除導航 进入旧版 進入舊版 TOP
MENU home 微信版 移动版 移動版 手机版 手機版 APP下载 APP下載 相关新闻 相關新聞 相关阅读 相關閱讀 相关文章 相關文章 推荐阅读 推薦閱讀 延伸阅读 延伸閱讀
最新文章 热门文章 熱門文章 评论 評論 发表评论 發表評論 小字号 小字號 大字号 大字號 中字号 中字號 天气 天氣 下载本文档 下載本文檔 文档简介 文檔簡介
网上图片 網上圖片 我要纠错 我要糾錯 纠错 糾錯 点赞 點贊 登录 登錄 注册 註冊 搜索 网站地图 網站地圖 联系我们 聯繫我們 关于我们 關於我們 TT
""".split()), key=len, reverse=True)
_NAV_LINE = re.compile(r"[\s|｜丨/>›»<‹«·•、,，:：\[\]【】()（）▼▲►◄\-—_*?？]*(?:(?:"
                       + "|".join(map(re.escape, _NAV_WORDS))
                       + r")[\s|｜丨/>›»<‹«·•、,，:：\[\]【】()（）▼▲►◄\-—_*?？]*)+", re.I)
_PAGE_LINE = re.compile("|".join([
    r".{0,40}(?:>>|&gt;&gt;|»|›).{0,60}",                                     # breadcrumbs 首页>>新闻>>
    r".{0,30}\s>\s.{0,30}\s>\s.{0,60}",                                       # 新闻中心 > 综合新闻 > 正文
    r"(?:您的位置|您现在的位置|您現在的位置|当前位置|當前位置)\s*[:：].*",
    r".{1,80}_第\s*\d+\s*[页頁]",                                              # document-site page list
    r"已[阅閱][读讀]\s*\d+\s*[页頁].*",
    r"(?:版权说明|版權說明|免责声明|免責聲明|版权所有|版權所有|声明|聲明)\s*[:：].*",
    r"(?:欢迎|歡迎)(?:来到|來到|您访问|您訪問|访问|訪問|光临|光臨).{0,40}",
    r".{0,40}ICP\s*[备備证證].{0,40}",
    r"(?:合作电话|合作電話|联系电话|聯繫電話|客服电话|客服電話|电话|電話)\s*[:：]?\s*[\d\- ]{7,}.*",
    r"[\d\-]{7,}\s*\S*@\S+",                                                   # phone + e-mail
    r"(?:分享到|分享至|分享|轉發到|转发到)\s*[:：]?.{0,30}",
    r"(?:字号|字號|字体大小|字體大小)\s*[:：]?.{0,20}",
    r"【\s*[大中小\s]*】.{0,20}",
    r"▼?向上滑[动動][观觀]看▼?",
    r"[?？\s*▼▲▍●◎□■]+",                                                     # leftover bullets and '?' runs
    r".{0,30}(?:如有侵权|如有侵權|转载需注明|轉載需注明|转载请注明|轉載請註明).{0,30}",
    r"-\s*\[\s*\d{2}-\d{2}\s*\].{1,60}",                                       # related-headline lists
    r"(?:点击|點擊).{0,20}(?:关注我们|關注我們).{0,10}",
    r".{2,20}主管\s*.{2,20}主办|.{2,20}主管\s*.{2,20}主辦",
    r"(?:当前版|當前版)\s*[:：].{0,10}",
    r"(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:cn|com|net|org|gov|edu)(?:\.cn)?",   # a bare domain
    r".{0,20}(?:365bet|365体育|365體育|官方網站\|唯一入口|官方网站\|唯一入口).{0,40}",
]))
MAX_PAGE_LINE_CHARS = 120
_FIRST_PAGE = re.compile(r"(.{1,80})_第\s*1\s*[页頁]")


def _is_page_line(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > MAX_PAGE_LINE_CHARS:
        return False
    return bool(_NAV_LINE.fullmatch(s) or _PAGE_LINE.fullmatch(s))


def strip_page_lines(text: str) -> str:
    """Drop navigation, breadcrumb, share/print, welcome, copyright and page-list lines.

    Only whole lines of at most ``MAX_PAGE_LINE_CHARS`` characters that consist of such
    furniture go; a body sentence that mentions 首页 stays.

    >>> strip_page_lines("首页 > 新闻 > 正文\\n网格员入户走访。\\n分享到：\\n上一篇 下一篇\\n打印本页 关闭窗口")
    '网格员入户走访。'
    """
    lines = text.split("\n")
    kept = []
    for line in lines:
        first_page = _FIRST_PAGE.fullmatch(line.strip())
        if first_page:  # a document site's page list keeps its title once
            kept.append(first_page.group(1))
        elif not _is_page_line(line):
            kept.append(line)
    return text if kept == lines else "\n".join(kept).strip("\n")


# --------------------------------------------------------------------------- meta lines
META_KEYS: dict[str, str] = {
    # key as written (both scripts) -> field
    "本文来源": "source_outlet", "本文來源": "source_outlet", "内容来源": "source_outlet", "內容來源": "source_outlet",
    "来源": "source_outlet", "來源": "source_outlet", "稿件来源": "source_outlet", "信息来源": "source_outlet",
    "作者": "author", "撰文": "author", "记者": "author", "記者": "author", "用户": "author",
    "责任编辑": "editor", "責任編輯": "editor", "图文编辑": "editor", "圖文編輯": "editor", "编辑": "editor", "編輯": "editor",
    "校对": "editor", "審核": "editor", "审核": "editor",
    "发布时间": "published", "發布時間": "published", "發佈時間": "published", "发布日期": "published", "發布日期": "published",
    "发表时间": "published", "發表時間": "published", "更新时间": "published", "更新時間": "published", "时间": "published",
    "時間": "published", "日期": "published", "date": "published",
    "浏览次数": "views", "瀏覽次數": "views", "浏览量": "views", "瀏覽量": "views", "文章浏览量": "views", "浏览": "views",
    "瀏覽": "views", "阅读量": "views", "閱讀量": "views", "访问量": "views", "訪問量": "views", "点击": "views", "點擊": "views",
    "点击数": "views", "点击量": "views", "评论": "comments", "評論": "comments",
    "中图分类号": "clc", "中圖分類號": "clc", "文献标识码": "doc_code", "文獻標識碼": "doc_code", "文献标志码": "doc_code",
    "文獻標志碼": "doc_code", "文章编号": "article_no", "文章編號": "article_no", "DOI": "doi", "doi": "doi",
    # page buttons that share a meta line; dropped with it
    "字体大小": "_", "字體大小": "_", "字号": "_", "字號": "_",
}
_KEY_RX = "|".join(map(re.escape, sorted(META_KEYS, key=len, reverse=True)))
_META_FIELD = re.compile(rf"(?:[\[【]\s*(?P<bkey>{_KEY_RX})\s*[\]】]\s*[:：]?|(?P<key>{_KEY_RX})\s*[:：|丨]|(?P<pkey>文)\s*[|丨])\s*")
_DATE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*(?:[-/.年]\s*(?P<m>\d{1,2})\s*(?:[-/.月]\s*(?P<d>\d{1,2})\s*日?)?)?"
                   r"(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?")
_DMY = re.compile(r"\d{2}\.\d{2}\.(?P<y>(?:19|20)\d{2})(?:\s+\d{1,2}:\d{2})?")
_SEPARATOR = re.compile(r"\s*(?:[|丨｜]+|\s{2,})\s*")
_JOURNAL = re.compile(r"(?P<journal>[^\s\d]{2,20})\s*(?:19|20)\d{2}\s*年\s*(?:第\s*)?\d{1,3}\s*期")
# a line that is only a date (with time), optionally with an outlet: "2016年08月29日 10:42  海曙新闻网"
# a dateline: a full date (month at least), then an outlet after a space, or names glued to a time
_DATELINE = re.compile(r"(?:(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*(?:[-/.月]\s*\d{1,2}\s*日?)?|\d{2}\.\d{2}\.(?:19|20)\d{2})"
                       r"(?:(?:\s*\d{1,2}:\d{2}(?::\d{2})?)(?:\s*[^\s。，,；;！？!?]{2,20})?|\s+[^\s。，,；;！？!?]{2,12})?")
_BULLET = re.compile(r"^\s*[-•·●◎□■▍]\s*")
_VALUE_NOISE = re.compile(r"\s*[(（](?:如有侵权|如有侵權|转载|轉載)[^)）]*[)）]|[\"“” ]+$")
MAX_META_LINE_CHARS = 160


@dataclass
class MetaLine:
    """The fields found in one meta line."""

    fields: dict[str, str]
    year: int | None


def parse_meta_line(line: str) -> MetaLine | None:
    """Fields of a meta line, or None when the line is not one.

    A meta line has ``key: value`` fields (来源, 作者, 责任编辑, 发布时间, 浏览次数, 中图分类号 …,
    either script, separated by ``|``, ``丨``, spaces or nothing) and no sentence of its own.

    >>> m = parse_meta_line("来源：人民网 丨 作者：李四 | 发布时间：2020-09-27 浏览次数：1024")
    >>> m.fields, m.year
    ({'source_outlet': '人民网', 'author': '李四', 'published': '2020-09-27', 'views': '1024'}, 2020)
    >>> parse_meta_line("作者认为，网格化管理提升了治理效能。") is None
    True
    """
    s = _BULLET.sub("", line.strip())
    if not s or len(s) > MAX_META_LINE_CHARS:
        return None
    matches = list(_META_FIELD.finditer(s))
    fields: dict[str, str] = {}
    if matches:
        lead = s[: matches[0].start()].strip(" |丨｜")
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(s)
            value = _SEPARATOR.split(s[m.end():end].strip(" |丨｜"))[0].strip(" |丨｜")
            value = _VALUE_NOISE.sub("", value)
            name = META_KEYS[m.group("key") or m.group("bkey")] if not m.group("pkey") else "author"
            if name == "published" and value:
                d = _DATE.match(value) or _DMY.match(value)
                if not d:
                    return None  # 阅读时间:25分钟 is no date
                value = d.group().strip()
            if re.search(rf"[{_HAN}A-Za-z0-9]", value) and name not in fields and name != "_":
                fields[name] = value
        # the rest must be furniture: a leading outlet/date, separators, empty fields
        if lead:
            d = _DATE.fullmatch(lead) or _DMY.fullmatch(lead)
            if d:
                fields.setdefault("published", lead)
            elif len(lead) <= 20 and not re.search("[。！？!?，,；;]", lead):
                fields.setdefault("source_outlet", lead)
            else:
                return None
        if any(re.search("[。！？!?]", v) or len(v) > 60 for v in fields.values()):
            return None
        if not fields and not all(META_KEYS.get(m.group("key") or m.group("bkey"), "author") in ("views", "comments", "editor", "source_outlet")
                                  for m in matches):
            return None
    else:
        j = _JOURNAL.fullmatch(s)
        if j:
            fields["journal"] = j.group("journal")
        elif _DATELINE.fullmatch(s):
            d = _DATE.match(s) or _DMY.match(s)
            fields["published"] = d.group().strip()
            rest = s[d.end():]
            if rest.strip():  # "10:42  海曙新闻网" names the outlet; "18:32段佳硕佟志伟" glues the authors
                fields["source_outlet" if rest[:1].isspace() else "author"] = rest.strip()
        else:
            return None
    year = None
    if "published" in fields:
        d = _DATE.search(fields["published"]) or _DMY.search(fields["published"])
        year = int(d.group("y")) if d else None
    return MetaLine(fields, year)


def extract_meta(text: str) -> tuple[str, dict[str, str], int | None]:
    """Remove meta lines; return the text, their fields (first value of each kind) and the year
    of the first publication date.

    A leading ``date 2025-10-21`` glued to the first sentence is taken too.

    >>> extract_meta("发布时间:2024-11-01 18:49:20 来源: 新华网\\n老旧小区改造。")
    ('老旧小区改造。', {'published': '2024-11-01 18:49:20', 'source_outlet': '新华网'}, 2024)
    """
    fields: dict[str, str] = {}
    year: int | None = None
    lines = text.split("\n")
    kept = []
    for line in lines:
        lead = re.match(r"\s*date\s+((?:19|20)\d{2}-\d{2}-\d{2})\s+", line)
        if lead:
            fields.setdefault("published", lead.group(1))
            year = year or int(lead.group(1)[:4])
            line = line[lead.end():]
        meta = parse_meta_line(line)
        if meta is None:
            kept.append(line)
            continue
        for k, v in meta.fields.items():
            fields.setdefault(k, v)
        year = year or meta.year
    out = "\n".join(kept).strip("\n") if len(kept) != len(lines) or fields else text
    return out, fields, year


def strip_meta_lines(text: str) -> str:
    """:func:`extract_meta` as a ``str -> str`` step (the fields are dropped).

    >>> strip_meta_lines("责任编辑：王五\\n网格化管理。")
    '网格化管理。'
    """
    return extract_meta(text)[0]


# --------------------------------------------------------------------------- site boilerplate
MIN_BOILERPLATE_DOCS = 3
BOILERPLATE_SHARE = 0.5


def site_of(source: str, url: str | None = None) -> str:
    """The group within which boilerplate is sought: a URL's host (without www./m.), else the source.

    >>> site_of("a.jsonl row 3", "http://m.jizihe.com/page/1.shtml"), site_of("reports/a.txt")
    ('jizihe.com', 'reports/a.txt')
    """
    if url and isinstance(url, str) and "://" in url:
        host = urlsplit(url).hostname or ""
        return re.sub(r"^(?:www\d?|m|wap)\.", "", host.lower())
    return re.sub(r" row \d+$", "", source)


def boilerplate_lines(texts: Sequence[str], groups: Sequence[str] | None = None,
                      min_docs: int = MIN_BOILERPLATE_DOCS, share: float = BOILERPLATE_SHARE) -> dict[str, frozenset[str]]:
    """Per group, the lines (stripped, ≥ 2 characters) found verbatim in at least ``min_docs``
    documents and in at least ``share`` of the group's documents: a site's own furniture.

    >>> texts = ["欢迎访问某某网\\n正文一。", "欢迎访问某某网\\n正文二。", "欢迎访问某某网\\n正文三。"]
    >>> boilerplate_lines(texts)
    {'': frozenset({'欢迎访问某某网'})}
    """
    groups = [""] * len(texts) if groups is None else list(groups)
    per_group: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[str] = Counter(groups)
    for text, g in zip(texts, groups):
        lines = {s for line in text.split("\n") if len(s := line.strip()) >= 2}
        if len(lines) > 1:  # a one-line document is content (a reprint), not a page around content
            per_group[g].update(lines)
    out = {}
    for g, counts in per_group.items():
        need = max(min_docs, share * sizes[g])
        lines = frozenset(line for line, n in counts.items() if n >= need)
        if lines:
            out[g] = lines
    return out


def strip_lines(lines: Iterable[str]) -> Step:
    """A step that drops the given lines (compared stripped).

    >>> strip_lines({"版权所有"})("正文。\\n 版权所有 ")
    '正文。'
    """
    drop = frozenset(lines)

    def step(text: str) -> str:
        parts = text.split("\n")
        kept = [p for p in parts if p.strip() not in drop]
        return text if len(kept) == len(parts) else "\n".join(kept).strip("\n")

    return step


# --------------------------------------------------------------------------- the pipeline
#: (name, step) in the order they run; ``removed_<name>`` counts what each took.
STEPS: tuple[tuple[str, Step], ...] = (
    ("markup", strip_markup),
    ("pinyin", strip_pinyin_glosses),
    ("meta", strip_meta_lines),
    ("page", strip_page_lines),
)
COUNT_COLUMNS = tuple(f"removed_{name}" for name, _ in STEPS) + ("removed_boilerplate",)


@dataclass
class Cleaned:
    """One cleaned document: text, meta-line fields, the year of its publication date, and
    characters removed per step (``removed_markup``, ``removed_pinyin``, ``removed_meta``,
    ``removed_page``, ``removed_boilerplate``)."""

    text: str
    fields: dict[str, str] = field(default_factory=dict)
    year: int | None = None
    removed: dict[str, int] = field(default_factory=dict)


def clean(text: str, boilerplate: Iterable[str] = ()) -> Cleaned:
    """Run every step on one document; ``boilerplate`` lines (from :func:`boilerplate_lines`) go too.

    >>> clean("<p>網(wǎng)格員</p>").text
    '網格員'
    """
    removed: dict[str, int] = {}
    fields: dict[str, str] = {}
    year = None
    for name, step in STEPS:
        before = len(text)
        if name == "meta":
            text, fields, year = extract_meta(text)
        else:
            text = step(text)
        removed[f"removed_{name}"] = before - len(text)
    before = len(text)
    if boilerplate:
        text = strip_lines(boilerplate)(text)
    removed["removed_boilerplate"] = before - len(text)
    return Cleaned(text, fields, year, removed)


def clean_texts(texts: Sequence[str], groups: Sequence[str] | None = None) -> list[Cleaned]:
    """Clean a corpus: per-document steps, then lines repeated across a group's documents
    (site boilerplate; ``groups`` e.g. from :func:`site_of`, default one group).

    >>> [c.text for c in clean_texts(["本站声明\\n甲。", "本站声明\\n乙。", "本站声明\\n丙。"])]
    ['甲。', '乙。', '丙。']
    """
    groups = [""] * len(texts) if groups is None else list(groups)
    first = [clean(t) for t in texts]
    repeated = boilerplate_lines([c.text for c in first], groups)
    out = []
    for c, g in zip(first, groups):
        lines = repeated.get(g)
        stripped = strip_lines(lines)(c.text) if lines else c.text
        if stripped.strip():  # never the whole document: what repeats everywhere there is the text itself
            c.removed["removed_boilerplate"] = len(c.text) - len(stripped)
            c.text = stripped
        out.append(c)
    return out


@lru_cache(maxsize=1)
def _combined_meta() -> re.Pattern[str]:
    return re.compile(rf"\s*[|丨｜]?\s*(?:{_KEY_RX})\s*[:：]")


def split_meta_value(value: str) -> tuple[str, dict[str, str]]:
    """A docvar value that swallowed further meta fields (``南方日报 更新时间:2023-05-24``):
    the value proper and the other fields.

    >>> split_meta_value("南方日报 更新时间:2023-05-24")
    ('南方日报', {'published': '2023-05-24'})
    """
    m = _combined_meta().search(value)
    if not m or m.start() == 0:
        return value, {}
    meta = parse_meta_line(value[m.start():].strip(" |丨｜"))
    return value[: m.start()].strip(" |丨｜"), (meta.fields if meta else {})


def _missing(value: object) -> bool:
    try:
        return value is None or bool(value != value) or str(value).strip() == ""
    except (TypeError, ValueError):  # pandas.NA
        return True


def clean_records(records: Sequence, warnings: list[str]) -> None:
    """Ingest's hook (``zhili.corpus(clean_web=True)``): clean every analysed record in place.

    A record has ``text``, ``source``, ``status``, ``reason`` and a ``docvars`` dict. Boilerplate
    is sought per site (:func:`site_of`: the host of a ``url`` variable, else the source file).
    Adds ``removed_<step>`` counts (only for steps that removed something somewhere), meta-line
    fields not already set (``source_outlet``, ``author``, ``editor``, ``published``, ``views``,
    ``journal``, ``doi`` …), and fills a missing ``year`` from the publication date, saying so in
    ``year_from`` and in ``warnings``. A record left without text is skipped with E160.
    """
    from zhili.errors import E, ZhiliError

    live = [r for r in records if r.status == "analysed"]
    results = clean_texts([r.text for r in live], [site_of(r.source, r.docvars.get("url")) for r in live])
    used = {k for res in results for k, v in res.removed.items() if v}
    n_years = 0
    for rec, res in zip(live, results):
        if not res.text.strip():
            rec.status, rec.reason = "skipped", str(ZhiliError(E.E160, path=rec.source))
            continue
        rec.text = res.text
        for name in ("source_outlet", "author", "editor"):  # a byline value that swallowed a meta line
            if isinstance(rec.docvars.get(name), str):
                rec.docvars[name], extra = split_meta_value(rec.docvars[name])
                for k, v in extra.items():
                    rec.docvars.setdefault(k, v)
        for k, v in res.fields.items():
            if _missing(rec.docvars.get(k)):
                rec.docvars[k] = v
        rec.docvars.update({k: v for k, v in res.removed.items() if k in used})
        if res.year is not None and _missing(rec.docvars.get("year")):
            rec.docvars["year"] = res.year
            rec.docvars["year_from"] = "meta_line"
            n_years += 1
    if n_years:
        warnings.append(f"[W160] {n_years} documents had no year; it was taken from the publication date of their "
                        "meta line ('year_from' = 'meta_line' in documents.csv).")
    if used:
        totals = {k: sum(res.removed[k] for res in results) for k in sorted(used)}
        warnings.append("Web-text cleaning removed " + ", ".join(f"{v:,} characters ({k[8:]})" for k, v in totals.items())
                        + "; per document in the removed_* columns of documents.csv (turn off with clean_web=False).")


def strip_genre_formulae(text: str) -> str:
    """Remove report-genre formulae (:func:`zhili.lexicon.genre_boilerplate`: 现在我代表…向大会报告…,
    请予审议, 在…第X届…第X次会议上, a line of 各位代表). Not a default ingest step (it edits the
    speech itself); the procedure words are stopwords already.

    >>> strip_genre_formulae("各位代表：\\n现在，我代表市人民政府，向大会报告工作，请予审议。\\n一、过去一年")
    '\\n一、过去一年'
    """
    from zhili.lexicon import genre_boilerplate

    for rx in genre_boilerplate().patterns:
        text = rx.sub("", text)
    return text
