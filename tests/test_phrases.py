"""Tests for zhili.phrases: PMI + boundary-entropy phrase discovery and the jieba user dictionary."""

from __future__ import annotations

import gzip
import json
import re

import jieba
import pytest

from zhili.phrases import COLUMNS, find_phrases, to_user_dict

# A small corpus: 营商环境 and 乡村振兴 occur in many contexts; 的 is a stopword.
CONTEXTS = ["持续", "优化", "改善", "打造", "一流", "提升", "全面", "推动", "建设", "巩固"]
SMALL = (
    [[left, "营商", "环境", right, "。"] for left, right in zip(CONTEXTS, reversed(CONTEXTS))]
    + [[left, "乡村", "振兴", right, "的"] for left, right in zip(CONTEXTS, CONTEXTS[3:] + CONTEXTS[:3])]
    + [["增长", "12", "个", "百分点"], ["提高", "3.5", "个", "百分点"], ["下降", "2", "个", "百分点"]] * 2
    + [["的", "营商"], ["环境", "的"]]
)


def test_small_corpus_finds_the_terms():
    table = find_phrases(SMALL, min_count=3, min_pmi=1.0, min_entropy=1.0, stopwords={"的"})
    assert list(table.columns) == COLUMNS
    assert set(table["phrase"].tolist()[:2]) == {"营商环境", "乡村振兴"}  # equally strong: either order
    row = table.set_index("phrase").loc["营商环境"]
    assert (row["tokens"], row["n_tokens"], row["count"], row["doc_count"]) == ("营商 环境", 2, 10, 10)
    assert row["left_entropy"] > 3 and row["right_entropy"] > 3 and row["pmi"] > 1
    assert table["score"].is_monotonic_decreasing


def test_stopwords_numbers_and_punctuation_are_never_at_a_boundary():
    table = find_phrases(SMALL, min_count=2, min_pmi=-99, min_entropy=0, stopwords={"的"}, top=None)
    for tokens in table["tokens"]:
        parts = tokens.split()
        assert parts[0] != "的" and parts[-1] != "的"
        assert not any(re.fullmatch(r"[\d.]+|。", p) for p in parts)
    # 个百分点 always follows a number: no left freedom, so it is dropped at min_entropy=1
    assert "个百分点" in set(table["phrase"])
    assert "个百分点" not in set(find_phrases(SMALL, min_count=2, min_pmi=-99, min_entropy=1.0)["phrase"])


def test_thresholds_and_top():
    assert find_phrases(SMALL, min_count=11).empty
    assert find_phrases(SMALL, min_count=3, min_pmi=50).empty
    assert len(find_phrases(SMALL, min_count=2, min_pmi=-99, min_entropy=0, top=1)) == 1


def test_longer_phrases_are_counted_from_frequent_parts():
    docs = [[w, "全面", "推进", "乡村", "振兴", v] for w, v in zip(CONTEXTS, reversed(CONTEXTS))]
    table = find_phrases(docs, min_count=5, min_pmi=0, min_entropy=1.0, top=None).set_index("phrase")
    assert table.loc["全面推进乡村振兴", "n_tokens"] == 4
    assert "推进乡村" not in table.index  # always preceded by 全面 and followed by 振兴


def test_user_dict_keeps_phrases_whole(tmp_path):
    table = find_phrases(SMALL, min_count=3, min_pmi=1.0, min_entropy=1.0, stopwords={"的"})
    path = to_user_dict(table, tmp_path / "user.dict")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all(re.fullmatch(r"\S+ \d+ nz", line) for line in lines)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(path))
    assert "营商环境" in tokenizer.lcut("持续优化营商环境，推进乡村振兴")
    assert to_user_dict(table.head(1), tmp_path / "fixed.dict", freq=7).read_text(encoding="utf-8").endswith(" 7 nz\n")


def test_gov_reports_top_phrases_are_policy_terms(shared_data):
    import rjieba

    path = shared_data("gov_work_reports") / "docs.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        docs = [rjieba.cut(json.loads(line)["text"]) for line in fh]
    table = find_phrases(docs, stopwords={"的", "和", "在", "是", "与", "及", "为", "等", "了", "把", "对"})
    top = set(table["phrase"].head(40))
    assert {"一带一路", "营商环境", "乡村振兴", "高质量发展", "专精特新"} <= top
