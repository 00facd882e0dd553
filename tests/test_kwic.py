from zhili.corpus import corpus, corpus_from_texts
from zhili.kwic import kwic


def test_kwic_matches_simplified_shows_original():
    hits = kwic(corpus(), "网格化", window=5)
    assert len(hits) > 3
    assert set(hits["keyword"]) == {"網格化"}
    assert hits.iloc[0]["city"] == "南通市"


def test_kwic_regex_and_no_hits():
    c = corpus_from_texts(["三降三升良好态势", "没有"])
    assert kwic(c, r"[一二三四五六七八九]降[一二三四五六七八九]升", regex=True)["keyword"].tolist() == ["三降三升"]
    assert kwic(c, "网格").empty


def test_bad_regex_is_a_coded_error():
    import pytest

    from zhili.errors import ZhiliError

    with pytest.raises(ZhiliError, match=r"\[E171\]"):
        kwic(corpus_from_texts(["网格化"]), "网格(", regex=True)


def test_negative_window_is_a_coded_error():
    import pytest

    from zhili.errors import ZhiliError

    with pytest.raises(ZhiliError, match=r"\[E172\]"):
        kwic(corpus_from_texts(["网格化"]), "网格", window=-1)


def test_kwic_command_bad_regex_and_window_exit_cleanly():
    import subprocess
    import sys

    for args in (["网格(", "--regex"], ["网格", "--window", "-3"]):
        out = subprocess.run([sys.executable, "-m", "zhili.cli", "kwic", *args], capture_output=True, text=True)
        assert out.returncode == 1 and "Traceback" not in out.stderr and "[E17" in out.stderr


def test_kwic_docvar_named_like_a_kwic_column_is_renamed_regression(tmp_path):
    """A docvar 'start' (or end/left/keyword/right) made duplicate columns: --out crashed in io.csv_safe
    ('DataFrame' object has no attribute 'dtype') and the printed line showed the docvar (X【网格】化管理)."""
    import json
    import subprocess
    import sys

    import pandas as pd
    import pytest

    from zhili.errors import ZhiliWarning

    src = tmp_path / "k.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "推进网格化管理。", "start": "S", "end": "E", "left": "L",
                               "keyword": "K", "right": "R"}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.warns(ZhiliWarning, match=r"\[W100\].*'start' -> 'start_original'"):
        hits = kwic(corpus(str(src)), "网格", window=2)
    assert hits.columns.is_unique
    row = hits.iloc[0]
    assert (row["start"], row["end"], row["left"], row["keyword"], row["right"]) == (2, 4, "推进", "网格", "化管")
    assert (row["start_original"], row["left_original"], row["right_original"]) == ("S", "L", "R")

    out = tmp_path / "k.csv"
    run = subprocess.run([sys.executable, "-m", "zhili.cli", "kwic", "网格", str(src), "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "Traceback" not in run.stderr and "[W100]" in run.stderr
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert table.loc[0, "keyword"] == "网格" and table.loc[0, "start_original"] == "S"
    run = subprocess.run([sys.executable, "-m", "zhili.cli", "kwic", "网格", str(src), "--window", "2"],
                         capture_output=True, text=True)
    assert run.stdout == "a\t推进【网格】化管\n"


def test_kwic_empty_pattern_is_a_coded_error_regression():
    """An empty pattern (or a regex matching the empty text) matched between every two characters."""
    import pytest

    from zhili.errors import ZhiliError

    c = corpus_from_texts(["网格化"])
    for pattern, regex in (("", False), ("", True), ("a*", True)):
        with pytest.raises(ZhiliError, match=r"\[E130\]"):
            kwic(c, pattern, regex=regex)
