"""Tests for zhili.metadata: years, file-name patterns, byline extraction and licence footers."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd
import pytest

from zhili.errors import ZhiliError
from zhili.metadata import compile_name_pattern, extract_bylines, parse_file_name, parse_year, strip_licence_footer

BODY = [
    "推进市域社会治理现代化，是提升基层治理能力的重要抓手，各地要结合实际，明确目标任务和工作步骤。",
    "要健全党组织领导的自治、法治、德治相结合的城乡基层治理体系，把矛盾纠纷化解在基层。",
    "要运用大数据等现代科技手段，提高社会治理的精准性和有效性，让群众有更多获得感。",
]


# ---------------------------------------------------------------- parse_year


@pytest.mark.parametrize(
    "value",
    [2019, "2019", "2019年", " 2019 年 ", "二〇一九年", "二零一九", "２０１９年", "２０１９", 2019.0, "2019.0",
     np.int64(2019), np.float64(2019.0), "2019-01", "2019-05-01", "2019/5/1", "2019.05.01", "2019年5月1日",
     "2019-05-01 00:00:00", "二〇一九年五月", "二〇一九年度", datetime.datetime(2019, 5, 1), datetime.date(2019, 5, 1),
     pd.Timestamp("2019-05-01"), np.datetime64("2019-05-01")],
)
def test_parse_year_accepts_common_forms(value: object) -> None:
    assert parse_year(value) == 2019


@pytest.mark.parametrize("value", [None, "", "  ", math.nan, np.nan, pd.NA, pd.NaT])
def test_parse_year_missing_is_none(value: object) -> None:
    assert parse_year(value) is None


@pytest.mark.parametrize("value", ["19年", "abc", 2019.5, 12, True, [2019], "未知", "2019-2020", "20190501", "明年"])
def test_parse_year_rejects_other_values(value: object) -> None:
    with pytest.raises(ValueError, match="not a year"):
        parse_year(value)


# ---------------------------------------------------------------- file-name patterns


@pytest.mark.parametrize(
    ("pattern", "stem", "expected"),
    [
        ("{city}_{year}", "南通_2019", {"city": "南通", "year": "2019"}),
        ("{city}_{year}", "南通_市域_2019年", {"city": "南通_市域", "year": "2019年"}),
        ("{city}{year}", "南通二〇一九年", {"city": "南通", "year": "二〇一九年"}),
        ("{year}年{city}政府工作报告", "2020年苏州政府工作报告", {"year": "2020", "city": "苏州"}),
        ("{city}-{kind}-{year}", "南通-报告-２０２１", {"city": "南通", "kind": "报告", "year": "２０２１"}),
        ("{city}(v2).{n}", "南通(v2).3", {"city": "南通", "n": "3"}),  # regex characters are literal
        ("{city}_{year}", "南通_201", None),
        ("{city}_{year}", "南通2019", None),
        ("{city}_{year}", "南通_2019_draft", None),
    ],
)
def test_parse_file_name(pattern: str, stem: str, expected: dict | None) -> None:
    assert parse_file_name(stem, compile_name_pattern(pattern)) == expected


def test_name_pattern_year_works_with_parse_year() -> None:
    fields = parse_file_name("宁波_二〇二〇年", compile_name_pattern("{city}_{year}"))
    assert fields is not None and parse_year(fields["year"]) == 2020


@pytest.mark.parametrize(
    ("pattern", "detail"),
    [
        ("{city}_{year", "unbalanced braces"),
        ("city}_{year}", "unbalanced braces"),
        ("{{city}}", "unbalanced braces"),
        ("city_year", "no {field}"),
        ("", "no {field}"),
        ("{city}_{city}", "'city' appears twice"),
        ("{城市}_{year}", "field name '城市'"),
        ("{}_{year}", "field name ''"),
        ("{1st}", "field name '1st'"),
    ],
)
def test_compile_name_pattern_rejects_invalid_patterns(pattern: str, detail: str) -> None:
    with pytest.raises(ZhiliError) as caught:
        compile_name_pattern(pattern)
    assert caught.value.code == "E013"
    assert detail in str(caught.value) and repr(pattern) in str(caught.value)


# ---------------------------------------------------------------- bylines


def test_extract_bylines_from_seed(seed_text: str) -> None:
    lines = seed_text.split("\n")
    assert lines[0] == "姜永華" and lines[-1] == "責任編輯:高 莉"  # the shape this test relies on
    body, variables = extract_bylines(seed_text)
    assert variables == {"author": "姜永華", "author_post": "中共南通市委常委、市委政法委書記", "editor": "高 莉"}
    assert body == "\n".join(lines[1:-2])


@pytest.mark.parametrize(
    ("line", "variables"),
    [
        ("作者：张三", {"author": "张三"}),
        ("作者:张三", {"author": "张三"}),
        ("（作者：张三 李四）", {"author": "张三 李四"}),
        ("（作者系南通市委政法委副书记）", {"author_post": "南通市委政法委副书记"}),
        ("(作者系某大学教授，博士生导师。)", {"author_post": "某大学教授，博士生导师"}),
        ("作者為某市社會治理研究中心主任", {"author_post": "某市社會治理研究中心主任"}),
        ("责任编辑：高莉", {"editor": "高莉"}),
        ("責任編輯:高 莉", {"editor": "高 莉"}),
        ("编辑：王五", {"editor": "王五"}),
        ("来源：人民网", {"source_outlet": "人民网"}),
        ("【來源：新華社】", {"source_outlet": "新華社"}),
    ],
)
@pytest.mark.parametrize("where", ["start", "end"])
def test_extract_bylines_single_line(line: str, variables: dict, where: str) -> None:
    lines = [line, *BODY] if where == "start" else [*BODY, line]
    assert extract_bylines("\n".join(lines)) == ("\n".join(BODY), variables)


def test_extract_bylines_full_set_of_simplified_lines() -> None:
    text = "\n".join(["张三", *BODY, "", "（作者系中共南通市委常委、市委政法委书记）", "来源：南通日报", "责任编辑：高莉"])
    body, variables = extract_bylines(text)
    assert body == "\n".join(BODY)
    assert variables == {
        "author": "张三", "author_post": "中共南通市委常委、市委政法委书记",
        "source_outlet": "南通日报", "editor": "高莉",
    }


@pytest.mark.parametrize(
    "lines",
    [
        ["记者 王五", *BODY],  # reporter lines stay
        ["前言", *BODY],  # a heading, not a name
        ["第一章", *BODY],
        ["张三", "短句。", *BODY],  # a name must be followed by a long paragraph
        ["张三丰李四", *BODY],  # longer than four characters
        ["张三，", *BODY],  # punctuation
        [*BODY, "作者系统地分析了基层治理的难点，提出了建议。"],  # body sentence, not a byline
        [*BODY, "作者为了写这篇文章走访了十个社区。"],
        [*BODY, "作者：张三", *BODY, *BODY],  # byline-like line in the middle (4th of 10)
    ],
    ids=["reporter", "heading", "chapter", "short-next-line", "long-name", "punctuation", "zuozhe-xitong",
         "zuozhe-weile", "middle"],
)
def test_extract_bylines_leaves_body_alone(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert extract_bylines(text) == (text, {})


def test_extract_bylines_empty_text() -> None:
    assert extract_bylines("") == ("", {})


WIKISOURCE_FOOTER = ("\n\n\n本作品是中华人民共和国的\n法律\n、\n法规\n，国家机关的决议、决定、命令和其他具有立法、行政、司法性质的文件。"
                     "\n公有领域\n。\n\n注：中文维基文库社群认为，中华人民共和国公务演讲，\n不总是\n具有立法、行政、司法性质的文件。"
                     "\n\nPublic domain\nPublic domain\nfalse\nfalse")


@pytest.mark.parametrize("footer", [WIKISOURCE_FOOTER, WIKISOURCE_FOOTER.replace("中华人民共和国的", "中華人民共和國的"),
                                    "\n本作品在全世界都属于公有领域，因为作者逝世已经超过100年。", "\nPublic domain\nfalse"])
def test_licence_footer_is_cut(footer: str) -> None:
    body = "\n".join(BODY * 4)
    assert strip_licence_footer(body + footer) == (body, len(footer))


@pytest.mark.parametrize("text", [
    "本作品是中华人民共和国的一项重要制度安排。" + "\n".join(BODY),  # at the start: body, not a footer
    "\n".join(BODY) + "\n本作品是中华人民共和国的" + "很长的正文" * 500,  # too long to be a footer
    "\n".join(BODY) + "\n文中提到本作品是中华人民共和国的法律。",  # not at the start of a line
])
def test_licence_footer_leaves_body_alone(text: str) -> None:
    assert strip_licence_footer(text) == (text, 0)
