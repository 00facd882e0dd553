import gzip
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zhili
from zhili import webtext
from zhili.webtext import (boilerplate_lines, clean, clean_texts, extract_meta, parse_meta_line, site_of,
                           split_meta_value, strip_markup, strip_page_lines, strip_pinyin_glosses)

LATIN_AFTER_HAN = re.compile(r"[\u4e00-\u9fff][(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+[)）]")


@pytest.mark.parametrize("raw, expected", [
    ("推進市域社會(huì)治理現(xiàn)代化", "推進市域社會治理現代化"),          # toned, half-width
    ("枫桥经(jīng)验", "枫桥经验"),
    ("網（wǎng）格化", "網格化"),                                        # full-width brackets
    ("紹興(xing) 市諸暨市", "紹興市諸暨市"),                             # toneless + space
    ("群眾(zhong) ,堅持", "群眾,堅持"),
    ("南安市洪濑镇(hónglàizhèn)上演", "南安市洪濑镇上演"),               # whole-word gloss
    ("開閩(四都(dōu))宗親", "開閩(四都)宗親"),                           # nested in a real bracket
    ("國(ㄍㄨㄛˊ)家", "國家"),                                            # zhuyin
])
def test_pinyin_glosses_are_removed_so_han_text_rejoins(raw, expected):
    assert strip_pinyin_glosses(raw) == expected


@pytest.mark.parametrize("text", [
    "国内生产总值(GDP)增长", "推行EMS免费快递(EMS)", "城市大脑(City Brain)", "鎮鄉(街道)全部建立",
    "爱邻(20)协商", "(1.漢江師范學院,湖北 十堰 442000", "运用(smart)技术", "APP (an) 下载",
])
def test_acronyms_english_and_real_brackets_stay(text):
    assert strip_pinyin_glosses(text) == text


@pytest.mark.parametrize("raw, expected", [
    ("<div>平安<b>建设</b></div>", "平安建设"),
    ("网格&nbsp;员&amp;", "网格 员&"),
    ("<script>document.write('<p>x</p>');</script>综治中心", "综治中心"),
    ("document.writeln(\"<a href='#'>首页</a>\");平安建设", "平安建设"),
    ("<style>.a{color:red}</style>河长制", "河长制"),
    ("人口td数据tr增长", "人口数据增长"),
    ("见 https://m.39.net/a_548.html 网格", "见  网格"),
    ("![]()\n洛陽", "\n洛陽"),
    ("std规划", "std规划"),   # inside a Latin word, not stranded markup
])
def test_markup(raw, expected):
    assert strip_markup(raw) == expected


@pytest.mark.parametrize("line", [
    "首页 > 新闻中心 > 正文", "首页>>中国城镇>>新闻中心>>", "分享到：", "上一篇 下一篇", "打印本页 关闭窗口",
    "English Deutsch 无障碍浏览工具 去除导航", "字号：TT", "【 大 中 小 】", "您的位置:新文秘网>>司法/调研报告/>>正文",
    "版權說明:本文檔由用戶提供並上傳", "已閱讀5頁,還剩32頁未讀 繼續免費閱讀", "欢迎来到国脉互联官方网站!",
    "相關閱讀:", "- [ 05-11]垃圾分類宣傳走進集美寧寶幼兒園", "tibet.cn", "????????", "微信版 移动版",
])
def test_page_lines_go(line):
    assert strip_page_lines("网格员入户走访。\n" + line) == "网格员入户走访。"


@pytest.mark.parametrize("line", [
    "首页设计要以人民为中心，打造一站式服务。", "上一篇文章提出了分享经济的治理路径。", "推进平安建设",
])
def test_body_lines_stay(line):
    assert strip_page_lines(line) == line


def test_document_site_page_list_keeps_its_title_once():
    text = "方案_第1页\n方案_第2页\n方案_第3页\n正文。"
    assert strip_page_lines(text) == "方案\n正文。"


@pytest.mark.parametrize("line, fields, year", [
    ("中国长安网 | 责任编辑:张晓婷 | 发布时间: 2021-03-05 10:00", {"source_outlet": "中国长安网", "editor": "张晓婷",
                                                            "published": "2021-03-05 10:00"}, 2021),
    ("本文来源: 海曙新闻网 责任编辑: 邬盈蓓", {"source_outlet": "海曙新闻网", "editor": "邬盈蓓"}, None),
    ("作者:李小敏 刘 钒      阅读量:440      时间:2021-12-21", {"author": "李小敏 刘 钒", "views": "440",
                                                         "published": "2021-12-21"}, 2021),
    ("發布時間: 2024-09-04 14:10:00 來源: 中國經濟網", {"published": "2024-09-04 14:10:00",
                                                   "source_outlet": "中國經濟網"}, 2024),
    ("来源丨人民网 丨 浏览次数：1024", {"source_outlet": "人民网", "views": "1024"}, None),
    ("[中圖分類號]D630 [文獻標識碼]A [文章編號]1673-0194(2023)17-0185-05",
     {"clc": "D630", "doc_code": "A", "article_no": "1673-0194(2023)17-0185-05"}, None),
    ("2016年08月29日 10:42  海曙新闻网", {"published": "2016年08月29日 10:42", "source_outlet": "海曙新闻网"}, 2016),
    ("领导科学论坛 2022年10期", {"journal": "领导科学论坛"}, None),
    ("发布时间：未知 | 来源：人民网", {"source_outlet": "人民网"}, None),
    ("[来源：人民网][作者：张三]", {"source_outlet": "人民网", "author": "张三"}, None),
    ("【来源：新华网】【责任编辑：李四】", {"source_outlet": "新华网", "editor": "李四"}, None),
    ("【编辑:王五】", {"editor": "王五"}, None),
    ("来源：人民网 2021-03-05", {"source_outlet": "人民网", "published": "2021-03-05"}, 2021),
    ("发布时间：2021-03-05 人民网", {"published": "2021-03-05", "source_outlet": "人民网"}, 2021),
    ("记者：王五、赵六", {"author": "王五、赵六"}, None),
    ("作者：某市委党校课题组", {"author": "某市委党校课题组"}, None),
    ("时间：2022-08-05浏览次数：35", {"published": "2022-08-05", "views": "35"}, 2022),
    ("评论：12", {"comments": "12"}, None),
])
def test_meta_lines_split_into_fields(line, fields, year):
    meta = parse_meta_line(line)
    assert meta is not None and meta.fields == fields and meta.year == year


@pytest.mark.parametrize("line", [
    "作者认为，网格化管理提升了治理效能。", "”毛主席还当面批评王洪文：“", "阅读时间:25分钟",
    "2017年上海市政府電子政務重點工作安排", "来源于群众、服务于群众的治理经验在全国推广。",
])
def test_body_lines_are_not_meta(line):
    assert parse_meta_line(line) is None


def test_extract_meta_takes_leading_dateline():
    text, fields, year = extract_meta(" date 2025-10-21 中評社北京10月21日電，綜治中心。")
    assert text.startswith("中評社") and fields == {"published": "2025-10-21"} and year == 2025


def test_byline_value_that_swallowed_a_meta_line_is_split():
    assert split_meta_value("南方日报 更新时间:2023-05-24") == ("南方日报", {"published": "2023-05-24"})
    assert split_meta_value("南方日报") == ("南方日报", {})


def test_site_boilerplate_is_found_per_site():
    texts = ["本站声明\n甲。", "本站声明\n乙。", "本站声明\n丙。", "本站声明\n丁。"]
    groups = ["a.cn", "a.cn", "a.cn", "b.cn"]
    assert boilerplate_lines(texts, groups) == {"a.cn": frozenset({"本站声明"})}
    out = clean_texts(texts, groups)
    assert [c.text for c in out] == ["甲。", "乙。", "丙。", "本站声明\n丁。"]
    assert out[0].removed["removed_boilerplate"] == len("本站声明\n")


def test_site_of_groups_mirrors_of_one_host():
    assert site_of("x row 1", "http://m.jizihe.com/a") == site_of("x row 2", "https://www.jizihe.com/b") == "jizihe.com"


def test_clean_counts_each_step():
    c = clean("<p>網(wǎng)格員</p>\n责任编辑：王五\n分享到：")
    assert c.text == "網格員"
    assert c.removed == {"removed_markup": 7, "removed_pinyin": 6, "removed_meta": 8, "removed_page": 5,
                         "removed_boilerplate": 0}
    assert c.fields == {"editor": "王五"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("社會治理網格(huì)（wǎng）wei zhong GDP<p>/|：来源作者\n首页 >分享到2021-03-05")),
               max_size=80))
def test_cleaning_only_deletes(text):
    """Contract: each step removes characters and never adds or reorders any."""
    out = clean(text).text
    it = iter(text)
    assert all(ch in it for ch in out)  # out is a subsequence of text


def test_meta_year_fills_a_missing_year(tmp_path):
    (tmp_path / "a.txt").write_text("发布时间：2019-05-01 来源：人民网\n" + "推进网格化服务管理。" * 5, encoding="utf-8")
    (tmp_path / "b.txt").write_text("推进网格化服务管理。" * 5, encoding="utf-8")
    c = zhili.corpus(tmp_path)
    docs = c.docs.set_index("doc_id")
    assert docs.loc["a", "year"] == 2019 and docs.loc["a", "year_from"] == "meta_line"
    assert docs.loc["a", "source_outlet"] == "人民网" and "发布时间" not in docs.loc["a", "text"]
    assert docs["year"].isna().sum() == 1
    assert any("W160" in w for w in c.warnings)
    raw = zhili.corpus(tmp_path, clean_web=False).docs.set_index("doc_id")
    assert "发布时间" in raw.loc["a", "text"] and "removed_meta" not in raw.columns


def test_document_left_empty_is_skipped_with_a_reason(tmp_path):
    (tmp_path / "nav.txt").write_text("首页 > 新闻 > 正文\n分享到：", encoding="utf-8")
    (tmp_path / "ok.txt").write_text("推进平安建设。", encoding="utf-8")
    c = zhili.corpus(tmp_path)
    assert c.docs["doc_id"].tolist() == ["ok"]
    assert "E160" in c.log.set_index("doc_id").loc["nav", "reason"]


# --- real web pages (records referred to by id; texts are never copied into the repo) ---

@pytest.fixture(scope="module")
def web_articles(shared_data):
    path = shared_data("web_articles") / "docs.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return {r["id"]: r for r in map(json.loads, fh)}


@pytest.fixture(scope="module")
def web_corpus(shared_data):
    return zhili.corpus(shared_data("web_articles") / "docs.jsonl.gz")


def test_no_pinyin_gloss_survives_in_glossed_records(web_articles, web_corpus):
    texts = web_corpus.docs.set_index("doc_id")["text"]
    glossed = [i for i, r in web_articles.items() if "pinyin_gloss" in r["noise"]]
    assert len(glossed) == 31
    left = {i: LATIN_AFTER_HAN.findall(texts[i]) for i in glossed if LATIN_AFTER_HAN.search(texts[i])}
    assert left == {}


def test_unglossed_records_lose_no_han_character(web_articles, web_corpus):
    texts = web_corpus.docs.set_index("doc_id")["text"]
    for i, r in web_articles.items():
        if not r["noise"]:
            assert texts[i] == r["text"].strip("\n"), i


@pytest.mark.parametrize("doc_id, field, value", [
    ("web-038", "editor", "邬盈蓓"),
    ("web-038", "source_outlet", "海曙新闻网"),
    ("web-013", "published", "2023-05-24"),
    ("web-015", "views", "440"),
    ("web-085", "source_outlet", "中國經濟網"),
    ("web-001", "clc", "D630"),
])
def test_meta_fields_of_real_pages(web_corpus, doc_id, field, value):
    assert web_corpus.docs.set_index("doc_id").loc[doc_id, field] == value


def test_page_residue_leaves_real_pages(web_corpus):
    texts = web_corpus.docs.set_index("doc_id")["text"]
    for doc_id, residue in [("web-036", "分享"), ("web-019", "无障碍浏览工具"), ("web-088", "已阅读"),
                            ("web-035", "设为首页"), ("web-072", "新闻中心 >"), ("web-064", "365bet")]:
        assert residue not in texts[doc_id], doc_id


# --- tester's defects (helper/web2): meta-line false positives, gloss styles ---

@pytest.mark.parametrize("line", [
    "美股评论：SUN的苦涩曙光",                          # a title: 评论 inside a word, value no count
    "时间：2019年5月1日至5月3日，地点：市民中心",          # prose after the date
    "时间：2019年5月1日至5月3日",
    "记者：网格员工作辛苦",                              # a Q&A turn, not a byline
    "记者：您好，请问网格员每天做什么？",
    "经费来源：中央财政 | 省级财政",                      # 来源 not at the start of a field
    "来源：中央财政 | 省级财政",                          # an unlabelled second part
    "评论：这项改革很成功",
    "作者：",                                           # an empty form field alone
])
def test_meta_false_positives_are_content(line):
    assert parse_meta_line(line) is None
    text = line + "\n网格员入户走访。"
    assert extract_meta(text) == (text, {}, None)


def test_meta_false_positive_title_document_is_not_skipped(tmp_path):
    (tmp_path / "title.txt").write_text("美股评论：SUN的苦涩曙光", encoding="utf-8")
    (tmp_path / "event.txt").write_text("时间：2019年5月1日至5月3日，地点：市民中心\n网格员培训。", encoding="utf-8")
    c = zhili.corpus(tmp_path)
    docs = c.docs.set_index("doc_id")
    assert sorted(docs.index) == ["event", "title"]
    assert docs.loc["title", "text"] == "美股评论：SUN的苦涩曙光"
    assert docs.loc["event", "text"].startswith("时间：2019年5月1日")
    assert "published" not in docs.columns or docs["published"].isna().all()
    assert "year" not in docs.columns or docs["year"].isna().all()


@pytest.mark.parametrize("raw, expected", [
    ("國 (guó)家", "國家"),                                             # a space before the bracket
    ("社會（ㄕㄜˋ ㄏㄨㄟˋ）治理", "社會治理"),                               # multi-syllable zhuyin
    ("社(she4)會(hui4)治理", "社會治理"),                                 # tone numbers
    ("经济(jing ji)发展", "经济发展"),                                    # toneless, several syllables
    ("社會(SHÈ HUÌ)治理", "社會治理"),                                    # upper case with tones
    ("綠(lǜ)色，綠(lv4)色", "綠色，綠色"),
    ("楓橋經(jīng)驗", "楓橋經驗"),                                         # tone-marked single syllable still goes
])
def test_pinyin_gloss_styles_are_removed(raw, expected):
    assert strip_pinyin_glosses(raw) == expected


@pytest.mark.parametrize("text", [
    "国内生产总值(GDP)增长", "政府和社会资本合作(PPP)模式", "智慧城市(smart city)建设", "政务服务(APP)上线",
    "人工智能(AI)赋能", "智慧城市 (smart city)", "经济(jing ji ji)",   # more syllables than Han characters
    "城市大脑(City Brain)", "北京(Beijing)",
])
def test_pinyin_gloss_rule_keeps_acronyms_and_english(text):
    assert strip_pinyin_glosses(text) == text


@pytest.mark.parametrize("text", ["推动建设一批跨境商品展示（O2O）体验店", "发展企业间电商(B2B)平台", "整治网络借贷（P2P）风险"])
def test_acronyms_with_a_digit_are_not_read_as_tone_numbered_pinyin_regression(text):
    """A city report's 展示（O2O）体验店 lost its (O2O): O2O was read as pinyin with tone numbers."""
    assert strip_pinyin_glosses(text) == text


def test_document_left_empty_keeps_its_length_in_the_log(tmp_path):
    (tmp_path / "nav.txt").write_text("首页 > 新闻 > 正文\n分享到：", encoding="utf-8")
    (tmp_path / "ok.txt").write_text("推进平安建设。", encoding="utf-8")
    log = zhili.corpus(tmp_path).log.set_index("doc_id")
    assert log.loc["nav", "n_chars"] == len("首页 > 新闻 > 正文\n分享到：") and log.loc["ok", "n_chars"] == 7
