import gzip

import pytest

from zhili.evaluate import segmentation_scores, spans


def test_spans_ignore_whitespace():
    assert spans(["社会", " ", "治理"]) == {(0, 2), (2, 4)}


def test_perfect_and_partial_scores():
    gold = [["网格化", "管理"]]
    assert segmentation_scores(gold, [["网格化", "管理"]])["f1"] == 1.0
    s = segmentation_scores(gold, [["网格", "化", "管理"]], known_words={"管理"})
    assert s["precision"] == pytest.approx(1 / 3) and s["recall"] == 0.5 and s["oov_recall"] == 0.0


def test_mismatched_text_names_the_line():
    with pytest.raises(ValueError, match="line 1"):
        segmentation_scores([["甲"]], [["乙"]])
