"""Tests for zhili.formulations: numbered formulations (提法) and quoted phrases."""

from __future__ import annotations

import gzip
import json
import re

import pandas as pd
import pytest

from zhili.corpus import corpus_from_texts
from zhili.errors import ZhiliError, ZhiliWarning
from zhili.formulations import (
    canonical_formulation,
    extract_formulations,
    formulation_counts,
    formulation_table,
    kwic_formulation,
)

# Every numbered formulation of the seed essay, read off the text by hand (canonical form).
SEED_NUMBERED = {
    "五大导向", "四大体系", "七大能力",                       # 树立“五大导向”、优化“四大体系”、提升“七大能力”
    "两个稳", "两手抓两手硬两促进", "两手抓两促进",              # “两个稳”两手抓、两手硬、两促进
    "四个责任制", "五进", "四大建设", "四个全面",
    "四级综治中心", "五个一", "四级领导干部",                  # 四级综治中心 (3×), “五个一”标准
    "一张网五统一", "五个到位", "三降三升", "一综多专",
    "一核多元", "三个导向", "三台融合", "三个100%", "四位一体",
}


def numbered(text: str) -> list[str]:
    return [f.canonical for f in extract_formulations(text) if f.kind == "numbered"]


def test_seed_yields_exactly_its_numbered_formulations(seed_text):
    assert set(numbered(seed_text)) == SEED_NUMBERED


def test_seed_table_holds_formulations_with_kwic(seed_text):
    table = formulation_table(corpus_from_texts([seed_text], ["seed"])).set_index("canonical")
    assert SEED_NUMBERED <= set(table.index)
    row = table.loc["四级综治中心"]
    assert (row["formulation"], row["count"], row["kind"]) == ("四級綜治中心", 3, "numbered")
    assert "【四級綜治中心】" in row["example"]
    assert "【五大導向】" in table.loc["五大导向", "example"]
    assert table.loc["新时代市域社会治理现代化", "kind"] == "quoted"


def test_offsets_point_into_the_original_text(seed_text):
    for f in extract_formulations(seed_text):
        assert seed_text[f.start : f.end] == f.text


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("四個全面", "四个全面"),
        ("兩個維護", "两个维护"),
        ("二个维护", "两个维护"),
        ("３个100％", "三个100%"),
        ("3个100%", "三个100%"),
        ("五 大 导向", "五大导向"),
        ("一張網、五統一", "一张网五统一"),
        ("十二个", "十二个"),  # a 二 inside a number stays
    ],
)
def test_variants_share_one_canonical_form(variant, canonical):
    assert canonical_formulation(variant) == canonical


def test_variants_are_counted_together():
    counts = formulation_counts(corpus_from_texts(["坚决做到“兩個維護”", "做到两个维护、四个全面"], ["t", "s"]))
    assert counts.to_dict("records") == [
        {"doc_id": "t", "canonical": "两个维护", "count": 1},
        {"doc_id": "s", "canonical": "两个维护", "count": 1},
        {"doc_id": "s", "canonical": "四个全面", "count": 1},
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "用三个月时间完成整治，增长十个百分点。",
        "2019年全市生产总值增长6.5%，新建学校5所。",
        "一是加强领导。二是突出重点。三是强化考核。",
        "一、主要工作\n二、今后任务",
        "第一，进一步统一思想；一些地方一直一般，一定要在一线一起干。",
        "这是唯一的办法，一系列措施一体推进，以防万一。",
        "统一的多民族国家；长三角一体化发展。",
        "一心一意谋发展，四面八方来支援，一年一度。",
        "具有两个方面的特点，市县两级工作日每天有接访，镇村两级随时可接访。",
        "党的二十大和二十届二中全会精神，十一届三中全会以来。",
        "增长两位数，发展二手车市场，二级以上医院，建设了五个人的小组。",
    ],
)
def test_plain_quantities_and_words_are_not_formulations(sentence):
    assert numbered(sentence) == []


def test_grammar_forms():
    text = "坚持两手抓、两手硬，推进三去一降一补，形成一综多专格局，实施三大攻坚战，落实五大发展理念和四个不摘要求，实现五统一。"
    assert numbered(text) == ["两手抓两手硬", "三去一降一补", "一综多专", "三大攻坚战", "五大发展理念", "四个不摘", "五统一"]


def test_quoted_phrases_respect_length_limits_and_flag():
    text = "提出“大平安”与「共建共治共享」，以及“很长很长很长很长很长很长很长很长的一句话”和“五进”"
    kinds = {f.text: f.kind for f in extract_formulations(text, max_quote_len=10)}
    assert kinds == {"大平安": "quoted", "共建共治共享": "quoted", "五进": "numbered"}
    assert [f.text for f in extract_formulations(text, quoted=False)] == ["五进"]


def test_kwic_marks_the_formulation():
    text = "全市呈现“三降三升”良好態勢"
    f = next(f for f in extract_formulations(text) if f.canonical == "三降三升")
    assert kwic_formulation(text, f, window=3) == "呈现“【三降三升】”良好"


def test_table_years_groups_and_order():
    texts = ["坚持“四个全面”和五大导向", "四個全面", "“四个全面”，四个全面"]
    c = corpus_from_texts(texts, ["a", "b", "c"], {"year": [2019, 2015, None], "city": ["南通", "苏州", "南通"]})
    with pytest.warns(ZhiliWarning, match=r"W170.*1 of 3"):
        table = formulation_table(c, by=["city"])
    assert table["canonical"].tolist() == ["四个全面", "五大导向"]
    first = table.iloc[0]
    assert (first["count"], first["n_docs"], first["first_year"], first["first_doc"]) == (4, 3, 2015, "b")
    assert (first["n_city"], first["citys"]) == (2, "南通、苏州")
    assert first["formulation"] == "四个全面"


def test_table_rejects_unknown_group_variable():
    with pytest.raises(ZhiliError, match="E012"):
        formulation_table(corpus_from_texts(["四个全面"], ["a"], {"year": [2020]}), by=["city"])


# Top-50 entries of the corpus table must not look like quantities, ordinals, times or enumerations.
FALSE_POSITIVE = re.compile(r"^第|^[一二三四五六七八九十两]+[是、]|[年月日届次倍]$|个(月|百分点|方面)|二十大|^[0-9]")


def test_gov_reports_top50_is_precise(shared_data):
    path = shared_data("gov_work_reports") / "docs.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    c = corpus_from_texts([d["text"] for d in docs], [d["id"] for d in docs], {"year": [d.get("year") for d in docs]})
    table = formulation_table(c)
    top = table[table["kind"] == "numbered"].head(50)
    assert not [c for c in top["canonical"] if FALSE_POSITIVE.search(c)]
    assert {"两个维护", "两个确立", "一带一路", "八项规定", "四个意识", "四个自信"} <= set(top["canonical"])
    assert table.set_index("canonical").loc["四个现代化", "first_year"] <= 1980


def test_old_list_signature_still_works_with_a_deprecation_warning():
    docvars = pd.DataFrame({"doc_id": ["a", "b"], "year": [2019, 2015]})
    with pytest.warns(DeprecationWarning, match="pass a Corpus"):
        table = formulation_table(["四个全面", "四个全面"], ["a", "b"], docvars)
    assert table.loc[0, "first_year"] == 2015 and table.loc[0, "first_doc"] == "b"


def test_paragraph_corpus_is_joined_into_documents():
    c = corpus_from_texts(["四个全面\n五大导向", "四个全面"], ["a", "b"], {"city": ["南通", "苏州"]})
    table = formulation_table(c.reshape("paragraph"), by="city").set_index("canonical")
    assert table.loc["四个全面", "n_docs"] == 2 and table.loc["五大导向", "citys"] == "南通"


MISSING_YEARS = [None, "", "未知", "null", pd.NA, float("nan")]


@pytest.mark.parametrize("missing", MISSING_YEARS, ids=repr)
def test_missing_year_does_not_crash_formulations(missing):
    docvars = pd.DataFrame({"doc_id": ["a", "b"], "year": pd.Series([2019, missing], dtype=object)})
    with pytest.warns(ZhiliWarning, match="W170"), pytest.warns(DeprecationWarning):
        table = formulation_table(["四个全面", "四个全面"], ["a", "b"], docvars)
    assert table.loc[0, "first_year"] == 2019 and table.loc[0, "first_doc"] == "a"


@pytest.mark.parametrize("years, first", [
    (pd.array([None, None], dtype="Int64"), None), (pd.array([None, 2019], dtype="Int64"), 2019),
    (["2019-05-01", "2018/3/1"], 2018), (pd.to_datetime(["2019-05-01", "2018-03-01"]), 2018),
], ids=["all_missing_Int64", "partly_missing_Int64", "date_strings", "xlsx_dates"])
def test_year_column_of_any_shape_does_not_crash_formulations(years, first):
    import warnings

    docvars = pd.DataFrame({"doc_id": ["a", "b"], "year": years})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = formulation_table(["四个全面", "四个全面"], ["a", "b"], docvars)
    assert str(table["first_year"].dtype) == "Int64"
    assert (pd.isna(table.loc[0, "first_year"]) if first is None else table.loc[0, "first_year"] == first)


def test_corpus_without_year_has_no_first_year_column():
    table = formulation_table(corpus_from_texts(["四个全面", "五大导向"]))
    assert "first_year" not in table.columns and len(table) == 2


def test_missing_group_value_is_counted_not_a_group_called_nan():
    c = corpus_from_texts(["四个全面", "四个全面", "四个全面"], docvars={"city": ["南通", None, ""]})
    with pytest.warns(ZhiliWarning, match=r"W171.*2 of 3 .*'city'"):
        table = formulation_table(c, by=["city"])
    assert (table.loc[0, "n_city"], table.loc[0, "citys"]) == (1, "南通")


def test_hundreds_of_groups():
    c = corpus_from_texts(["四个全面"] * 300, docvars={"city": [f"城{i}" for i in range(300)]})
    assert formulation_table(c, by=["city"]).loc[0, "n_city"] == 300


def test_no_formulations_gives_an_empty_table_with_columns():
    table = formulation_table(corpus_from_texts(["没有提法的句子"], docvars={"year": [2020]}), by=["year"])
    assert table.empty and {"canonical", "first_year", "n_year", "years"} <= set(table.columns)


def test_formulations_use_the_user_dictionary(tmp_path):
    """Regression: formulations called rjieba directly, ignoring lexicon and user dictionaries."""
    from zhili.segment import Segmenter

    text = "实现四个全覆盖目标"
    plain = [f.canonical for f in extract_formulations(text, segmenter=Segmenter(lexicon=False, places=False))]
    userdict = tmp_path / "u.txt"
    userdict.write_text("全覆盖目标 100000 n\n", encoding="utf-8")
    custom = [f.canonical for f in extract_formulations(text, segmenter=Segmenter(user_dicts=[userdict]))]
    assert custom == ["四个全覆盖目标"] and custom != plain


def test_formulations_are_cached_per_document_and_bad_entries_recomputed(tmp_path, seed_text, monkeypatch):
    import zhili.formulations as fm

    c = corpus_from_texts([seed_text, "落实四个全面"], ["seed", "b"])
    cold = formulation_table(c, cache=tmp_path)
    files = sorted((tmp_path / "formulations").rglob("*.json"))
    assert len(files) == 2
    with monkeypatch.context() as m:
        m.setattr(fm, "extract_formulations", lambda *a, **k: pytest.fail("extracted again"))
        pd.testing.assert_frame_equal(formulation_table(c, cache=tmp_path), cold)
    for path, junk in zip(files, ["not json", '[["x", "numbered", 0, 99999]]']):
        path.write_text(junk, encoding="utf-8")
    pd.testing.assert_frame_equal(formulation_table(c, cache=tmp_path), cold)
    pd.testing.assert_frame_equal(formulation_table(c, cache=False), cold)


def test_spelled_out_and_numbered_forms_of_a_linked_formulation_count_as_one():
    c = corpus_from_texts(["健全自治、法治、德治相结合的乡村治理体系，推进三治融合。", "坚持“三治”结合", "健全自治、法治、德治相結合",
                           "坚持法治和德治"], doc_ids=["a", "b", "c", "d"])
    table = formulation_table(c, cache=False).set_index("canonical")
    row = table.loc["三治融合"]
    assert (row["formulation"], row["count"], row["n_spelled_out"], row["n_docs"]) == ("三治融合", 4, 2, 3)
    assert "三治" not in table.index  # the numbered variant is counted under 三治融合


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_formulations_in_several_processes_equal_the_serial_table(monkeypatch, tmp_path, platform):
    """issue 12: formulations are extracted in parallel (forked or spawned workers), batch by batch."""
    import sys

    F = sys.modules["zhili.formulations"]
    texts = [f"第{i}篇：坚持“五大导向”，推进三治融合，实现三降三升。" if i % 3 else "自治、法治、德治相结合" for i in range(40)]
    c = corpus_from_texts(texts, docvars=pd.DataFrame({"city": [f"c{i % 7}" for i in range(40)]}))
    serial = F.formulation_table(c, by="city", cache=False)
    monkeypatch.setattr(F, "PARALLEL_MIN_TEXTS", 4)
    monkeypatch.setattr(F, "EXTRACT_BATCH", 15)
    monkeypatch.setattr(sys, "platform", platform)
    parallel = F.formulation_table(c, by="city", cache=tmp_path, n_jobs=3)
    again = F.formulation_table(c, by="city", cache=tmp_path, n_jobs=3)  # now from the cache
    monkeypatch.undo()
    pd.testing.assert_frame_equal(parallel, serial)
    pd.testing.assert_frame_equal(again, serial)
    assert len(list((tmp_path / "formulations").rglob("*.json"))) == len(set(texts))


def test_formulation_batches_are_bounded_by_characters_as_well(monkeypatch):
    """issue 12: a batch of long documents is cut by its characters, not only by its count."""
    import sys

    F = sys.modules["zhili.formulations"]
    texts = ["坚持“五大导向”。" * 50, "推进三治融合。", "三降三升" * 30, "没有"]
    assert [len(b) for b in F.text_batches(texts, 100, 100)] == [1, 2, 1]
    assert [len(b) for b in F.text_batches(texts, 2, 10**9)] == [2, 2]
    serial = F.formulation_table(corpus_from_texts(texts), cache=False)
    monkeypatch.setattr(F, "EXTRACT_BATCH_CHARS", 10)
    pd.testing.assert_frame_equal(F.formulation_table(corpus_from_texts(texts), cache=False), serial)


@pytest.mark.parametrize("by", [[], ["city"], ["city", "year"]])
def test_formulation_tables_reads_each_document_once_and_gives_both_tables(monkeypatch, by):
    """Regression: the run's formulations and examples each walked every document through
    extract_all (two reads; with --no-cache, two extractions)."""
    import zhili.formulations as F

    c = corpus_from_texts(["坚持“五大导向”，实现三降三升。", "五大導向与一张网、五统一", "没有提法", "三降三升"],
                          doc_ids=["a", "b", "c", "d"],
                          docvars={"city": ["南通", "苏州", None, "南通"], "year": [2019, 2020, 2021, None]})
    expected = {"formulations": F.formulation_table(c, by=by, cache=False),
                "formulation_examples": F.formulation_examples(c, cache=False)}
    calls = []
    real = F.extract_all
    monkeypatch.setattr(F, "extract_all", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = F.formulation_tables(c, by=by, cache=False)
    assert len(calls) == 1
    for name, table in expected.items():
        pd.testing.assert_frame_equal(got[name], table)


def test_a_cached_formulation_entry_with_other_valid_rows_is_recomputed_regression(tmp_path):
    """A per-text cache file whose rows were changed (still valid JSON that fits the text) gave
    other counts; its rows must match the SHA-256 it records."""
    import json

    c = corpus_from_texts(["坚持“五大导向”，推进三治融合，五大导向", "落实四个全面"], ["a", "b"])
    cold = formulation_table(c, cache=tmp_path)
    for path in (tmp_path / "formulations").rglob("*.json"):
        entry = json.loads(path.read_text(encoding="utf-8"))
        entry["rows"] = entry["rows"][:1]  # one use dropped
        path.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
    pd.testing.assert_frame_equal(formulation_table(c, cache=tmp_path), cold)


def test_a_cached_formulation_entry_moved_to_another_texts_key_is_recomputed_regression(tmp_path):
    """A per-text entry copied over another text's entry (same length, valid spans) gave that
    text the other's formulations; the recorded digest covers the entry's key."""
    c = corpus_from_texts(["推进三治融合工作", "坚持五大导向工作"], ["a", "b"])
    cold = formulation_table(c, cache=tmp_path)
    first, second = sorted((tmp_path / "formulations").rglob("*.json"))
    second.write_bytes(first.read_bytes())
    pd.testing.assert_frame_equal(formulation_table(c, cache=tmp_path), cold)
