"""Tests for zhili.lexicon: shipped file formats, parsers and errors, and that the seed's governance terms
come out whole under both segmenters once the governance lexicon is loaded."""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path

import jieba
import opencc
import pytest
import rjieba

from zhili.errors import ZhiliError
from zhili.lexicon import (
    Entry,
    excluded_places,
    formulation_links,
    governance_lexicon,
    lexicon_hash,
    place_names,
    read_synonyms,
    read_user_dict,
    regional_names,
    resource_path,
    spelled_out_formulations,
    stopwords,
)

jieba.setLogLevel(logging.WARNING)

# Terms a governance scholar keeps whole, each present in the seed (after t2s); some plain jieba already keeps.
SEED_ESSENTIAL_TERMS = [
    "社会治理", "市域社会治理", "市域社会治理现代化", "社会治理现代化", "社会治理共同体", "基层治理", "基层社会治理",
    "国家治理", "网格化", "网格化服务管理", "综治", "综治中心", "四级", "共建共治共享", "矛盾纠纷", "多元化解",
    "源头化解", "平安建设", "信访", "信访积案", "接访下访", "政法委", "政法队伍", "雪亮工程", "智能化建设",
    "最后一公里", "风险隐患", "安全隐患", "群众诉求", "获得感", "幸福感", "安全感", "顶层设计", "长治久安",
    "党员干部", "法治建设", "责任制", "习近平", "总书记",
]


@pytest.fixture(scope="module")
def seed_simplified(seed_text: str) -> str:
    return opencc.OpenCC("t2s").convert(seed_text)


@pytest.fixture(scope="module")
def jieba_with_lexicon() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.initialize()
    for e in governance_lexicon():
        tok.add_word(e.word, e.freq, e.pos)
    return tok


@pytest.fixture(scope="module")
def rjieba_with_lexicon() -> rjieba.Jieba:
    seg = rjieba.Jieba()
    for e in governance_lexicon():
        seg.add_word(e.word, e.freq, e.pos)
    return seg


# --- shipped files -------------------------------------------------------------------------------------------

def test_shipped_data_is_small():
    total = sum(p.stat().st_size for p in resource_path("x").parent.iterdir() if p.is_file())
    assert total < 1_000_000


def test_governance_lexicon_parses_and_is_well_formed():
    entries = governance_lexicon()
    assert 200 <= len(entries) <= 600
    words = [e.word for e in entries]
    assert len(words) == len(set(words))
    assert all(e.freq and e.freq > 0 and e.pos for e in entries)
    assert {"社会治理", "市域社会治理", "矛盾纠纷", "综治中心", "共建共治共享", "平安建设"} <= set(words)


def test_every_lexicon_term_is_whole_alone_in_both_segmenters(jieba_with_lexicon, rjieba_with_lexicon):
    for e in governance_lexicon():
        assert jieba_with_lexicon.lcut(e.word) == [e.word]
        assert rjieba_with_lexicon.cut(e.word, True) == [e.word]


def test_place_names_contain_full_and_short_forms():
    names = place_names()
    assert {"南通", "南通市", "江苏", "江苏省", "海门", "海门区", "凉山", "内蒙古"} <= names
    assert "南通" in place_names("prefecture") and "江苏" in place_names("province")
    assert "海门" in place_names("county") and "南通" not in place_names("county")
    # ambiguous short forms are kept only as full names
    assert "和平区" in names and "和平" not in names and "城关" not in names


def test_places_file_columns():
    lines = [ln for ln in resource_path("places.txt").read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    for line in lines:
        name, full, level, province = line.split("\t")
        assert level in {"province", "prefecture", "county"}
        assert full.startswith(name[:1]) and province


def test_place_names_rejects_unknown_level():
    with pytest.raises(ZhiliError, match="city"):
        place_names("city")


# --- stopwords -----------------------------------------------------------------------------------------------

def test_stopword_kinds():
    general, policy = stopwords("general"), stopwords("policy")
    assert {"的", "了", "和", "是", "在", "与", "及"} <= general
    assert {"推进", "加强", "坚持", "建设", "进一步", "扎实", "着力", "提升"} <= policy
    assert "平安建设" not in policy and "的" not in policy
    assert stopwords("all") == general | policy | stopwords("genre")
    assert stopwords("none") == frozenset()
    assert 200 <= len(general) <= 1000 and 30 <= len(policy) <= 300


def test_stopwords_extra_from_iterable_and_file(tmp_path: Path):
    assert stopwords("none", extra=["本市", " 全区 "]) == {"本市", "全区"}
    f = tmp_path / "mine.txt"
    f.write_text("# my list\n本市\n\n全区\n", encoding="utf-8")
    assert stopwords("none", extra=f) == {"本市", "全区"}
    assert stopwords("none", extra=str(f)) == {"本市", "全区"}
    assert "本市" in stopwords("policy", extra=f)


def test_stopwords_errors(tmp_path: Path):
    with pytest.raises(ZhiliError, match="policy"):
        stopwords("boilerplate")
    with pytest.raises(ZhiliError, match="E001"):
        stopwords("none", extra=tmp_path / "missing.txt")


# --- user dictionaries ---------------------------------------------------------------------------------------

def test_read_user_dict_formats(tmp_path: Path):
    f = tmp_path / "user.txt"
    f.write_text("\ufeff# comment\n\n网格员 20 n\n综治中心\n平安建设 nz\n  矛盾纠纷 7  \n", encoding="utf-8")
    assert read_user_dict(f) == [
        Entry("网格员", 20, "n"), Entry("综治中心", None, None), Entry("平安建设", None, "nz"), Entry("矛盾纠纷", 7, None),
    ]


@pytest.mark.parametrize(
    "bad_line, fragment",
    [("网格员 many n", "many"), ("网格 员 3 n", "whitespace"), ("网格员 3.5", "3.5"), ("网格员 -3 n", "-3")],
)
def test_read_user_dict_malformed_line_names_file_and_line(tmp_path: Path, bad_line: str, fragment: str):
    f = tmp_path / "user.txt"
    f.write_text(f"# header\n社会治理 10 n\n{bad_line}\n", encoding="utf-8")
    with pytest.raises(ZhiliError) as info:
        read_user_dict(f)
    assert info.value.code == "E020"
    assert str(f) in str(info.value) and "line 3" in str(info.value) and fragment in str(info.value)


def test_lexicon_hash_is_order_free_and_content_sensitive():
    a = [Entry("社会治理", 10, "n"), Entry("网格员")]
    assert lexicon_hash(a) == lexicon_hash(reversed(a))
    assert lexicon_hash(a) != lexicon_hash([Entry("社会治理", 11, "n"), Entry("网格员")])
    assert len(lexicon_hash(governance_lexicon())) == 64


# --- synonyms ------------------------------------------------------------------------------------------------

def test_shipped_synonyms():
    syn = read_synonyms()
    assert 20 <= len(set(syn.values())) <= 60
    assert syn["新冠肺炎疫情"] == "新冠疫情" and syn["规模以上工业"] == "规上工业"
    assert not set(syn) & set(syn.values())


def test_synonym_forms_are_single_tokens(jieba_with_lexicon):
    syn = read_synonyms()
    for word in set(syn) | set(syn.values()):
        assert jieba_with_lexicon.lcut(word) == [word], word


@pytest.mark.parametrize(
    "content, line",
    [("综治\n", 1), ("# c\n综治\t\n", 2), ("甲\t乙\n乙\t丙\n", 2), ("甲\t乙\n丙\t乙\n", 2), ("甲\t甲\n", 1)],
)
def test_bad_synonym_file_raises_e023(tmp_path: Path, content: str, line: int):
    f = tmp_path / "syn.tsv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ZhiliError) as info:
        read_synonyms(f)
    assert info.value.code == "E023" and f"line {line}" in str(info.value)


def test_synonyms_are_attested_in_the_reports(shared_data):
    texts = []
    for folder in ("gov_work_reports", "cpc_congress_reports"):
        with gzip.open(shared_data(folder) / "docs.jsonl.gz", "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh]
    corpus = opencc.OpenCC("t2s").convert("\n".join(texts))
    syn = read_synonyms()
    for canonical in set(syn.values()):
        variants = [v for v, c in syn.items() if c == canonical]
        assert canonical in corpus and any(v in corpus for v in variants), canonical


# --- the seed, segmented -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_tokens(seed_simplified, jieba_with_lexicon, rjieba_with_lexicon) -> tuple[list[str], list[str]]:
    return jieba_with_lexicon.lcut(seed_simplified), rjieba_with_lexicon.cut(seed_simplified, True)


@pytest.mark.parametrize("term", SEED_ESSENTIAL_TERMS)
def test_seed_essential_term_comes_out_whole(term, seed_simplified, seed_tokens):
    assert term in seed_simplified, f"{term} does not occur in the seed; drop it from the list"
    jieba_tokens, rjieba_tokens = seed_tokens
    assert term in jieba_tokens
    assert term in rjieba_tokens


def test_jieba_and_rjieba_agree_on_the_seed(seed_tokens):
    jieba_tokens, rjieba_tokens = seed_tokens
    assert jieba_tokens == rjieba_tokens


# --- issue 13: the field's vocabulary, genre boilerplate, regional names, linked formulations ---

#: Governance terms of the seed essay that a China scholar needs whole (each occurs in the seed).
ESSENTIAL_SEED_TERMS = tuple(dict.fromkeys(SEED_ESSENTIAL_TERMS + [
    "市域", "新时代", "国家治理体系", "国家安全", "大数据", "云计算", "人工智能", "社会矛盾", "群体性事件",
    "四个全面", "一把手工程", "安居乐业", "新发展理念", "安全生产", "信息化", "精细化",
]))
# Numbered formulations the seed uses once (三降三升, 五大导向) are not on the list: formulation_table counts
# them on the text, whole or cut, and the lexicon's evidence rule (>= 2 uses in the seed) leaves them out.
#: measured on the seed with the shipped lexicon (issue 13: target >= 0.95)
ESSENTIAL_WHOLE_SHARE = 0.95


def whole_rates(text: str, terms, tokens) -> dict[str, float]:
    """Per term: share of its occurrences with no token boundary inside."""
    bounds, pos = set(), 0
    for tok in tokens:
        pos += len(tok)
        bounds.add(pos)
    rates = {}
    for term in terms:
        starts = [m.start() for m in re.finditer(re.escape(term), text)]
        whole = [s for s in starts if not any(b in bounds for b in range(s + 1, s + len(term)))]
        rates[term] = len(whole) / len(starts) if starts else float("nan")
    return rates


def test_essential_seed_terms_come_out_whole(seed_text):
    from zhili.normalize import normalize
    from zhili.segment import Segmenter

    text = normalize(seed_text)
    rates = whole_rates(text, ESSENTIAL_SEED_TERMS, Segmenter().segment(text, keep_all=True))
    assert not [t for t, r in rates.items() if r != r], "every essential term occurs in the seed"
    whole = [t for t, r in rates.items() if r >= 0.9]
    share = len(whole) / len(ESSENTIAL_SEED_TERMS)
    assert share >= ESSENTIAL_WHOLE_SHARE, sorted((r, t) for t, r in rates.items() if r < 0.9)


@pytest.mark.parametrize("term", ["大数据", "云计算", "新时代", "市域", "都市圈", "大湾区", "放管服", "最多跑一次",
                                  "一网通办", "三治融合", "吹哨报到", "街乡吹哨", "湖长制", "物联网", "区块链"])
def test_field_vocabulary_is_kept_whole(term):
    from zhili.segment import Segmenter

    assert Segmenter().cut(term) == [term]


def test_genre_stopwords_are_in_all_but_not_in_policy():
    assert "各位代表" in stopwords("all") and "各位代表" in stopwords("genre")
    assert "各位代表" not in stopwords("policy")


def test_regional_names_cover_the_issue_examples():
    names = regional_names()
    assert {"三湘", "湖湘", "三晋", "汾河", "鄱阳湖", "我区", "全省", "全市", "自治区"} <= names
    assert regional_names("self") >= {"我区", "全省"} and not regional_names("self") & regional_names("alias")
    with pytest.raises(ZhiliError, match="E024"):
        regional_names("river")


def test_excluded_places_is_gazetteer_plus_regional_names():
    assert excluded_places() == place_names() | regional_names()


@pytest.mark.parametrize("text, expected", [
    ("健全自治、法治、德治相结合的乡村治理体系", ["三治融合"]),
    ("以法治、德治、自治为抓手", ["三治融合"]),
    ("坚持创新、协调、绿色、开放、共享的发展理念", ["五大发展理念"]),
    ("推进简政放权、放管结合、优化服务改革", ["放管服"]),
    ("坚持法治和德治", []),
])
def test_spelled_out_formulations_link_to_the_numbered_form(text, expected):
    assert [c for c, _, _ in spelled_out_formulations(text)] == expected


def test_formulation_links_parts_are_distinct_and_forms_unique():
    links = formulation_links()
    forms = [f for link in links.values() for f in link.forms]
    assert len(forms) == len(set(forms))
    assert all(len(set(link.parts)) == len(link.parts) >= 2 for link in links.values())
