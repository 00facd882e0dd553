import gzip
import json
import subprocess
import sys

import pytest

from zhili.errors import ZhiliError
from zhili.evaluate import segmentation_scores
from zhili.normalize import normalize
from zhili.segment import Segmenter

SEED_TERMS = ["习近平", "市域社会治理", "社会治理", "网格化", "综治中心", "矛盾纠纷", "平安建设", "政法委"]


@pytest.fixture(scope="module")
def fast():
    return Segmenter(backend="rjieba")


@pytest.fixture(scope="module")
def plain():
    return Segmenter(backend="jieba")


def test_traditional_is_not_cut_across_words(fast, seed_text):
    tokens = fast.segment(seed_text)
    assert "".join(tokens) == seed_text
    assert "習近平" in tokens and "實習" not in tokens


@pytest.mark.parametrize("term", SEED_TERMS)
def test_seed_governance_terms_whole(fast, seed_text, term):
    assert term in fast.cut(normalize(seed_text))


def test_user_dictionary_wins(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("# my terms\n一综多专 20 nz\n", encoding="utf-8")
    assert "一综多专" in Segmenter(user_dicts=[path]).cut("形成了一综多专的格局")


def test_unknown_backend():
    with pytest.raises(ZhiliError, match="E021"):
        Segmenter(backend="pkuseg")


def test_parity_on_seed(fast, plain, seed_text):
    norm = normalize(seed_text)
    assert fast.cut(norm) == plain.cut(norm)


@pytest.mark.parametrize("text", ["2011-2020年规划", "PM_2.5浓度下降", "5G-A基站", "1.1GW光伏", "C++与Python"])
def test_parity_on_ascii_runs(fast, plain, text):
    assert fast.cut(text) == plain.cut(text)


def test_parity_on_government_reports(fast, plain, shared_data):
    path = shared_data("gov_work_reports") / "docs.jsonl.gz"
    texts = [normalize(json.loads(line)["text"]) for line in gzip.open(path, "rt", encoding="utf-8")]
    mismatched = [i for i, t in enumerate(texts) if fast.cut(t) != plain.cut(t)]
    assert mismatched == []


def _sighan(shared, name):
    root = shared("sighan2005")
    read = lambda p: gzip.open(root / p, "rt", encoding="utf-8-sig").read().splitlines()  # noqa: E731
    return read(f"testing/{name}_test.utf8.gz"), [line.split() for line in read(f"gold/{name}_test_gold.utf8.gz")]


@pytest.mark.parametrize("name, floor", [("cityu", 0.82), ("pku", 0.81)])
def test_sighan_f1_through_the_cli(shared_data, name, floor):
    test, gold = _sighan(shared_data, name)
    out = subprocess.run([sys.executable, "-m", "zhili.cli", "segment", "--keep-all"], input="\n".join(test) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    scores = segmentation_scores(gold, [line.split() for line in out])
    assert scores["f1"] >= floor, scores
