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
from typing import Any
from urllib.parse import urlsplit

Step = Callable[[str], str]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# --------------------------------------------------------------------------- pinyin / zhuyin glosses
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
#: every syllable of Standard Mandarin in Hanyu Pinyin, toneless, ü written v (lve, nve; lue, nue as often typed)
PINYIN_SYLLABLES = frozenset("""
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce cen ceng
cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci cong cou cu
cuan cui cun cuo da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo
e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan
guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian
jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan
kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan
lun luo lv lve lue ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang
nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nuo nv nve nue o ou pa pai pan pang
pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que
qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan
shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun
suo ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen
weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong
you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong
zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo ng hm hng m n ê
""".split())
_BOPOMOFO = "\u3105-\u312f\u31a0-\u31bf"
_ZHUYIN_TONES = "ˉˊˇˋ˙"
_ZHUYIN_SYLLABLE = re.compile(f"[˙]?[{_BOPOMOFO}]{{1,4}}[{_ZHUYIN_TONES}]?")
# a bracket right after a Han character (one space allowed between), holding no bracket or line break
_GLOSS = re.compile(rf"(?<=[{_HAN}])(?P<pre> ?)[(（](?P<body>[^()（）\n]{{1,80}}?)[)）](?P<space> (?=[^A-Za-z0-9]))?")
_HAN_RUN = re.compile(rf"[{_HAN}]+$")
_NO_TONE = str.maketrans({"ü": "v", "ê": "e"})
_MAX_SYLLABLE = max(map(len, PINYIN_SYLLABLES)) + 1  # erhua: huar


def _syllable_count(word: str) -> int | None:
    """How few syllables (each optionally with erhua ``r`` and a tone number 1-5) spell ``word``
    (toneless, lower case), or None when it is no pinyin."""
    best: list[int | None] = [0] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - _MAX_SYLLABLE - 1), end):
            if best[start] is None:
                continue
            piece = word[start:end]
            if piece[-1:] in "12345" and len(piece) > 1:
                piece = piece[:-1]
            if piece in PINYIN_SYLLABLES or (piece.endswith("r") and piece[:-1] in PINYIN_SYLLABLES and len(piece) > 2):
                n = best[start] + 1
                if best[end] is None or n < best[end]:
                    best[end] = n
    return best[-1]


def gloss_syllables(body: str) -> int | None:
    """The number of syllables of a bracket's content when it is a pinyin or zhuyin gloss, else None.

    Every space-separated token must be pinyin: one syllable when it carries no tone, any number
    of syllables when it carries tone marks or tone numbers (``hónglàizhèn``, ``she4hui4``); ü or v;
    upper case only with tones (``SHÈ HUÌ``; ``AI``, ``GDP`` are acronyms). Or zhuyin syllables.

    >>> [gloss_syllables(b) for b in ("jīng", "jing ji", "she4", "SHÈ HUÌ", "ㄕㄜˋ ㄏㄨㄟˋ", "hónglàizhèn")]
    [1, 2, 1, 2, 2, 3]
    >>> [gloss_syllables(b) for b in ("GDP", "PPP", "smart city", "APP", "AI", "20", "街道", "City Brain", "O2O", "B2B")]
    [None, None, None, None, None, None, None, None, None, None]
    """
    tokens = re.split(r"[\s'’\-]+", body.strip())
    if not tokens or not tokens[0]:
        return None
    if all(_ZHUYIN_SYLLABLE.fullmatch(t) for t in tokens):
        return len(tokens)
    total = 0
    for token in tokens:
        if not re.fullmatch(f"[A-Za-züÜêÊ{_TONED}{_TONED.upper()}]+[1-5]?(?:[A-Za-züÜ{_TONED}]+[1-5]?)*", token):
            return None
        plain = "".join(c for c in unicodedata.normalize("NFD", token) if not unicodedata.combining(c))
        numbered = any(c.isdigit() for c in token)
        toned = plain != token.replace("ü", "u").replace("Ü", "U") or numbered
        if not toned and (token.isupper() or (token[:1].isupper() and len(tokens) == 1)):
            return None  # AI, GDP, (Sun): acronyms and names, not romanisation
        if numbered and token.isupper():
            return None  # O2O, B2B, P2P: acronyms with a digit, not tone numbers (those are written in lower case)
        n = _syllable_count(plain.lower().translate(_NO_TONE))
        if n is None or (n > 1 and not toned):
            return None
        total += n
    return total


def strip_pinyin_glosses(text: str) -> str:
    """Remove romanisation inserted after Han characters, so the characters rejoin.

    A bracket (either width, right after a Han character or one space after it) is a gloss when
    :func:`gloss_syllables` reads it as pinyin or zhuyin with no more syllables than the Han
    characters right before it: ``網(wǎng)格``, ``洪濑镇（hónglàizhèn）``, ``為(wei) 眾``, ``經濟(jing ji)``,
    ``社(she4)``, ``國 (guó)``, ``社會（ㄕㄜˋ ㄏㄨㄟˋ）``. Acronyms and English stay: ``(GDP)``, ``(APP)``,
    ``(smart city)``.

    >>> strip_pinyin_glosses("楓橋經(jīng)驗，為(wei) 眾(zhong) 人熟知，國(ㄍㄨㄛˊ)家，城市大脑(City Brain)")
    '楓橋經驗，為眾人熟知，國家，城市大脑(City Brain)'
    >>> strip_pinyin_glosses("經濟(jing ji)發展，社會（ㄕㄜˋ ㄏㄨㄟˋ）治理，國 (guó)家，生产总值(GDP)")
    '經濟發展，社會治理，國家，生产总值(GDP)'
    """
    if "(" not in text and "（" not in text:
        return text

    def drop(m: re.Match[str]) -> str:
        n = gloss_syllables(m.group("body"))
        if n is None:
            return m.group()
        han = _HAN_RUN.search(text, max(0, m.start() - 24), m.start())  # the Han characters glossed
        return "" if han and n <= len(han.group()) else m.group()

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


@dataclass
class MetaLine:
    """The fields found in one meta line."""

    fields: dict[str, str]
    year: int | None


#: labels that also open ordinary sentences or Q&A turns (记者：…, 时间：…, 评论：…); a line with one of them
#: alone is meta only when its value is plausible (a name, an outlet, a date, a number)
_AMBIGUOUS_KEYS = frozenset({
    "来源", "來源", "作者", "撰文", "记者", "記者", "用户", "编辑", "編輯", "校对", "审核", "審核", "时间", "時間",
    "日期", "date", "浏览", "瀏覽", "点击", "點擊", "评论", "評論", "DOI", "doi"})
_KEY_RX = "|".join(map(re.escape, sorted(META_KEYS, key=len, reverse=True)))
_META_FIELD = re.compile(rf"(?:[\[【]\s*(?P<bkey>{_KEY_RX})\s*[\]】]\s*[:：]?|(?P<key>{_KEY_RX})\s*[:：|丨]|(?P<pkey>文)\s*[|丨])\s*")
# what may stand right before a label that opens a field: separators, brackets, quotes
_FIELD_OPENER = set(" \t\u3000|丨｜[]【】《》\"“”'()（）▍-—·•")
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
_TRAILING_DATE = re.compile(r"\s(?:19|20)\d{2}[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_UNKNOWN = re.compile(r"未知|不详|不詳|暂无|暫無|佚名|无|無|-+|—+|null|none", re.I)
_COUNT = re.compile(r"\d[\d,.]*\s*(?:万|萬)?\s*(?:次|人次|人|条|條)?")
_SENTENCE = re.compile(r"[。！？!?；;：:，,“”]")
_NAME_PART = re.compile(rf"[{_HAN}]{{1,4}}|[{_HAN}]{{1,6}}[·•][{_HAN}]{{1,8}}|[A-Za-z][A-Za-z.'\-]{{0,20}}")
_ORG_SUFFIX = re.compile(r"(?:课题组|課題組|实验室|實驗室|研究院|研究所|研究会|研究會|中心|委员会|委員會|办公室|辦公室|编辑部|編輯部"
                         r"|报社|報社|日报|日報|晚报|晚報|杂志|雜誌|学报|學報|网|網|社|局|厅|廳|部|处|處|院|站|台|组|組|室|所|会|會"
                         r"|大学|大學|学院|學院|政府|委|办|辦)$")
MAX_META_LINE_CHARS = 160
MAX_META_VALUE_CHARS = 60


def _is_names(value: str, strict: bool) -> bool:
    """A byline: names (``吴燕霞、李晓婷``, ``朱 力,袁迎春``), a name and an affiliation (``陈兵 南开大学法学院教授``),
    or an organisation (``某某课题组``). Not strict: any short value without sentence punctuation."""
    if len(value) > MAX_META_VALUE_CHARS or re.search("[。！？!?；;：:“”]", value):
        return False
    parts = [p for p in re.split(r"[、,，/\s]+", value) if p]
    if not strict:
        return all(len(p) <= 30 for p in parts)
    if not parts or re.search("[，,]", value) and not all(_NAME_PART.fullmatch(p) for p in parts):
        return False
    if all(_NAME_PART.fullmatch(p) for p in parts):
        return True
    if len(parts) > 1 and _NAME_PART.fullmatch(parts[0]) and sum(map(len, parts[1:])) <= 24:
        return True  # name, then affiliation or title
    return len(parts) == 1 and len(value) <= 20 and bool(_ORG_SUFFIX.search(value))


def _is_outlet(value: str, strict: bool) -> bool:
    """An outlet: short, without sentence punctuation (``人民網-人民日報海外版``, ``《某某学报》2019年第02期``)."""
    return len(value) <= (20 if strict else 40) and not _SENTENCE.search(value)


def _field_opens(s: str, m: re.Match[str], first: bool) -> bool:
    """Whether a label found at ``m`` opens a field: at the start of the line, after a separator or bracket,
    after a date or number (``2022-08-05浏览次数``), or a label of 3+ characters glued to the previous value
    (``区公建中心字体大小``). 经费来源, 美股评论 hold a label that opens nothing."""
    p = m.start()
    if p == 0 or s[p - 1] in _FIELD_OPENER or s[p - 1].isspace():
        return True
    if s[p - 1].isascii() and s[p - 1].isalnum():
        return True
    key = m.group("key") or m.group("bkey") or m.group("pkey")
    return not first and len(key) >= 3 and not m.group("pkey")


def parse_meta_line(line: str) -> MetaLine | None:
    """Fields of a meta line, or None when the line is not one.

    A meta line is made of ``label: value`` fields (来源, 作者, 责任编辑, 发布时间, 浏览次数, 中图分类号 …,
    either script, separated by ``|``, ``丨``, spaces, brackets or nothing), each label opening its field
    (``经费来源：…`` and ``美股评论：…`` hold none), each value looking like metadata: a date for a time
    field, a number for a view count, a short name or outlet without sentence punctuation otherwise
    (``未知`` too). A line with one field needs a plausible value (``记者：网格员工作辛苦`` is a Q&A
    turn); a line with prose after a value is content.

    >>> m = parse_meta_line("来源：人民网 丨 作者：李四 | 发布时间：2020-09-27 浏览次数：1024")
    >>> m.fields, m.year
    ({'source_outlet': '人民网', 'author': '李四', 'published': '2020-09-27', 'views': '1024'}, 2020)
    >>> parse_meta_line("[来源：人民网][作者：张三]").fields
    {'source_outlet': '人民网', 'author': '张三'}
    >>> [parse_meta_line(s) for s in ("作者认为，网格化管理提升了治理效能。", "时间：2019年5月1日至5月3日，地点：市民中心")]
    [None, None]
    """
    s = _BULLET.sub("", line.strip())
    if not s or len(s) > MAX_META_LINE_CHARS:
        return None
    matches = []
    for m in _META_FIELD.finditer(s):
        if _field_opens(s, m, first=not matches):
            matches.append(m)
    fields: dict[str, str] = {}
    if not matches:
        return _parse_unlabelled(s)
    strip = " |丨｜[]【】\t\u3000"
    lead = s[: matches[0].start()]
    n_fields = len(matches)
    if lead.strip(strip):
        # a leading outlet or date, set off from the first label: "中国长安网 | 责任编辑:…", "2018-10-17 作者:…"
        lead_value = lead.strip(strip)
        if not (lead[-1:].isspace() or lead[-1:] in "|丨｜[【" or lead_value[-1:].isdigit()):
            return None
        d = _DATE.fullmatch(lead_value) or _DMY.fullmatch(lead_value)
        if d:
            fields["published"] = lead_value
        elif _is_outlet(lead_value, strict=True):
            fields["source_outlet"] = lead_value
        else:
            return None
        n_fields += 1
    ambiguous_only = True
    names = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(s)
        key = m.group("key") or m.group("bkey")
        name = META_KEYS[key] if not m.group("pkey") else "author"
        ambiguous = bool(key) and key in _AMBIGUOUS_KEYS
        ambiguous_only &= ambiguous
        names.append(name)
        strict = ambiguous and n_fields == 1
        parts = [p for p in _SEPARATOR.split(s[m.end():end].strip(strip)) if p.strip(strip)]
        value = _VALUE_NOISE.sub("", parts[0].strip(strip)).strip(strip) if parts else ""
        extra = [p.strip(strip) for p in parts[1:]]
        if name == "published" and extra and _DATE.fullmatch(extra[0]) is None and re.fullmatch(r"\d{1,2}:\d{2}(?::\d{2})?", extra[0]):
            value, extra = f"{value} {extra[0]}", extra[1:]
        for x in extra:  # an unlabelled part after a value: a date or an outlet, else the line is prose
            if (_DATE.fullmatch(x) or _DMY.fullmatch(x)) and "published" not in fields and name != "published":
                fields["published"] = x
            elif name == "published" and _is_outlet(x, strict=True):
                fields.setdefault("source_outlet", x)
            else:
                return None
        if not value:
            if strict:
                return None  # "时间：" alone may be a form to fill in
            continue
        if _UNKNOWN.fullmatch(value):
            continue
        if name == "published":
            d = _DATE.match(value) or _DMY.match(value)
            if not d:
                return None  # 阅读时间:25分钟 is no date
            rest = value[len(d.group().rstrip()):]
            if rest.strip():
                if not (rest[:1].isspace() and _is_outlet(rest.strip(), strict=True)):
                    return None  # 时间：2019年5月1日至5月3日，地点：…
                fields.setdefault("source_outlet", rest.strip())
            value = d.group().strip()
        elif name in ("views", "comments"):
            if not _COUNT.fullmatch(value):
                return None  # 美股评论：SUN的苦涩曙光
        elif name in ("author", "editor"):
            if not _is_names(value, strict=strict and not m.group("pkey")):
                return None
        elif name == "source_outlet":
            dated = _TRAILING_DATE.search(value)
            if dated and "published" not in fields:  # "来源：人民网 2021-03-05"
                fields["published"], value = dated.group().strip(), value[: dated.start()].strip()
            if not _is_outlet(value, strict):
                return None
        elif _SENTENCE.search(value.replace(",", "")) and name not in ("_",) or len(value) > MAX_META_VALUE_CHARS:
            return None
        if name not in fields and name != "_":
            fields[name] = value
    if not fields and (ambiguous_only and n_fields == 1 or all(n == "_" for n in names)):
        return None  # "作者：" alone, "字号：TT" (a page button, for strip_page_lines)
    return _meta(fields)


def _parse_unlabelled(s: str) -> MetaLine | None:
    """A line without labels: a journal issue (``领导科学论坛 2022年10期``) or a dateline."""
    fields: dict[str, str] = {}
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
    return _meta(fields)


def _meta(fields: dict[str, str]) -> MetaLine:
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


def boilerplate_lines(texts: Iterable[str], groups: Sequence[str] | None = None,
                      min_docs: int = MIN_BOILERPLATE_DOCS, share: float = BOILERPLATE_SHARE) -> dict[str, frozenset[str]]:
    """Per group, the lines (stripped, ≥ 2 characters) found verbatim in at least ``min_docs``
    documents and in at least ``share`` of the group's documents: a site's own furniture.

    >>> texts = ["欢迎访问某某网\\n正文一。", "欢迎访问某某网\\n正文二。", "欢迎访问某某网\\n正文三。"]
    >>> boilerplate_lines(texts)
    {'': frozenset({'欢迎访问某某网'})}
    """
    texts = list(texts) if groups is None else texts
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

    text: str | None  #: None when the text was written back where it lives (:func:`clean_all`)
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
    out = list(texts)
    results = clean_all(range(len(out)), out.__getitem__, out.__setitem__,
                        [""] * len(out) if groups is None else list(groups))
    for res, text in zip(results, out):
        res.text = text if res.text is None else res.text
    return results


def clean_all(items: Sequence, get: Callable[[Any], str], put: Callable[[Any, str], None],
              groups: Sequence[str]) -> list[Cleaned]:
    """Clean the texts of ``items`` where they live (``get(item)`` reads one, ``put(item, text)``
    replaces it): the per-document steps, then the lines repeated across a group's documents.
    A text is read and written one at a time, so a corpus spilled to disk is never held whole.
    Returns each item's :class:`Cleaned` with ``text`` None, or ``""`` when nothing was left (its
    text is then not replaced).

    >>> texts = ["本站声明\\n<b>甲</b>。", "本站声明\\n乙。", "本站声明\\n丙。"]
    >>> [r.removed["removed_boilerplate"] for r in clean_all(range(3), texts.__getitem__, texts.__setitem__, [""] * 3)]
    [5, 5, 5]
    >>> texts
    ['甲。', '乙。', '丙。']
    """
    results = []
    for item in items:
        res = clean(get(item))
        if res.text.strip():
            put(item, res.text)
            res.text = None
        else:
            res.text = ""
        results.append(res)
    live = [res.text is None for res in results]
    repeated = boilerplate_lines((get(item) if ok else "" for item, ok in zip(items, live)), groups)
    for item, res, g, ok in zip(items, results, groups, live):
        lines = repeated.get(g)
        if not (lines and ok):
            continue
        text = get(item)
        stripped = strip_lines(lines)(text)
        if stripped.strip():  # never the whole document: what repeats everywhere there is the text itself
            res.removed["removed_boilerplate"] = len(text) - len(stripped)
            if stripped != text:
                put(item, stripped)
    return results


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


def clean_records(records: Sequence, warnings: list[str], get: Callable[[Any], str] | None = None,
                  put: Callable[[Any, str], None] | None = None) -> None:
    """Ingest's hook (``zhili.corpus(clean_web=True)``): clean every analysed record in place
    (its ``text``, or where ``get``/``put`` read and write it: see :func:`clean_all`).

    A record has ``text``, ``source``, ``status``, ``reason`` and a ``docvars`` dict. Boilerplate
    is sought per site (:func:`site_of`: the host of a ``url`` variable, else the source file).
    Adds ``removed_<step>`` counts (only for steps that removed something somewhere), meta-line
    fields not already set (``source_outlet``, ``author``, ``editor``, ``published``, ``views``,
    ``journal``, ``doi`` …), and fills a missing ``year`` from the publication date, saying so in
    ``year_from`` and in ``warnings``. A record left without text is skipped with E160.
    """
    from zhili.errors import E, ZhiliError

    live = [r for r in records if r.status == "analysed"]
    groups = [site_of(r.source, r.docvars.get("url")) for r in live]
    results = clean_all(live, get or (lambda r: r.text), put or (lambda r, text: setattr(r, "text", text)), groups)
    used = {k for res in results for k, v in res.removed.items() if v}
    n_years = 0
    for rec, res in zip(live, results):
        if res.text == "":  # left without text
            rec.status, rec.reason = "skipped", str(ZhiliError(E.E160, path=rec.source))
            continue
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
