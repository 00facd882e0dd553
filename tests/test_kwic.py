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
