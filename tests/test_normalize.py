import gzip
import json

import pytest

from zhili.normalize import compose, detect_script, fold_width, normalize, strip_control, to_simplified


@pytest.mark.parametrize("raw, expected", [
    ("２０１９年", "2019年"),
    ("ＧＤＰ增长６．５％，", "GDP增长6.5%，"),
    ("社会\u3000治理", "社会 治理"),
    ("\u00a0网格", " 网格"),
])
def test_fold_width(raw, expected):
    assert fold_width(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("貫徹落實習近平總書記", "贯彻落实习近平总书记"),
    ("市域社會治理現代化", "市域社会治理现代化"),
    ("社会治理", "社会治理"),
])
def test_to_simplified(raw, expected):
    assert to_simplified(raw) == expected


@pytest.mark.parametrize("text, script", [
    ("推进市域社会治理现代化", "simplified"),
    ("推進市域社會治理現代化", "traditional"),
    ("推进市域社会治理现代化，引用“網格化”", "mixed"),
    ("GDP 2019", "none"),
])
def test_detect_script(text, script):
    assert detect_script(text) == script


def test_normalize_keeps_length_so_offsets_align(seed_text):
    norm = normalize(seed_text)
    assert len(norm) == len(seed_text)
    assert "习近平" in norm and "網格" not in norm


def test_strip_control_and_compose():
    assert compose(strip_control, fold_width)("\x07Ａ") == " A"


def test_seed_is_detected_as_traditional(seed_text):
    assert detect_script(seed_text) == "traditional"


# --- script detection that does not misfire (issue 13 §2), tested from both directions ---

@pytest.mark.parametrize("text", ["乾县", "菜薹", "陕西乾县的菜薹远近闻名。", "夥伴", "麽", "後来"])
def test_characters_of_both_standards_do_not_make_a_text_traditional(text):
    assert detect_script(text) == "simplified"


@pytest.mark.parametrize("text", ["陕西乾县的菜薹远近闻名。", "乾县推进网格化服务管理，菜薹种植面积扩大。"])
def test_simplified_document_is_not_rewritten(text):
    assert to_simplified(text) == text == normalize(text)


def test_mixed_document_converts_only_its_traditional_runs():
    text = "乾县推进网格化管理。引用原文：“堅持發展新時代楓橋經驗”。菜薹丰收。"
    out = to_simplified(text)
    assert out == "乾县推进网格化管理。引用原文：“坚持发展新时代枫桥经验”。菜薹丰收。"
    assert len(out) == len(text)


def test_traditional_document_converts_whole_including_shared_characters():
    text = "然後，鄉村治理體系不斷完善，乾淨整潔的村莊環境讓群眾獲得感不斷增強，基層社會治理現代化水平持續提升。"
    assert detect_script(text) == "traditional"
    assert to_simplified(text) == "然后，乡村治理体系不断完善，干净整洁的村庄环境让群众获得感不断增强，基层社会治理现代化水平持续提升。"


def test_one_traditional_character_is_mixed_not_traditional():
    text = "推进市域社会治理现代化，加强基层治理体系和治理能力建设，完善網格化服务管理。" * 2
    assert detect_script(text) == "mixed"


def test_web_articles_scripts_agree_with_their_labels(shared_data):
    """45 Traditional and 48 Simplified real pages; after cleaning, every label is matched."""
    import zhili

    c = zhili.corpus(shared_data("web_articles") / "docs.jsonl.gz")
    labels = dict(zip(c.docs["doc_id"], c.docs["script"]))
    with gzip.open(shared_data("web_articles") / "docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        truth = {r["id"]: r["script"] for r in map(json.loads, fh)}
    wrong = {i: (truth[i], labels[i]) for i in truth if labels[i] != truth[i]}
    assert wrong == {}


# --- 昇 and other name characters of the Simplified standard (helper/web2) ---

@pytest.mark.parametrize("text", ["王昇同志", "王昇同志深入社区，推进网格化服务管理。", "毕昇", "张陞", "氾姓"])
def test_name_characters_of_the_simplified_standard_are_not_traditional(text):
    assert detect_script(text) == "simplified"
    assert to_simplified(text) == text == normalize(text)


def test_shen_of_shenyang_stays_traditional_only():
    """瀋 has no Simplified use (沈阳), so it still marks a Traditional run."""
    assert to_simplified("瀋陽") == "沈阳"
