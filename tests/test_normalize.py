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
