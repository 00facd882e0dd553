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
