import gzip
import json
import os
import subprocess
import sys

import numpy as np
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
def native():
    pytest.importorskip("zhili._cut", reason="zhili's C cutter was not compiled (no C compiler at install time)")
    return Segmenter(backend="native")


@pytest.fixture(scope="module", params=["native", "rjieba"])
def quick(request):
    """Each fast backend in turn, to be checked against plain jieba."""
    return request.getfixturevalue("native" if request.param == "native" else "fast")


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


def test_parity_on_seed(quick, plain, seed_text):
    norm = normalize(seed_text)
    assert quick.cut(norm) == plain.cut(norm)


@pytest.mark.parametrize("text", ["2011-2020年规划", "PM_2.5浓度下降", "5G-A基站", "1.1GW光伏", "C++与Python"])
def test_parity_on_ascii_runs(quick, plain, text):
    assert quick.cut(text) == plain.cut(text)


# the corners of jieba's cut: its block and whitespace rules, finalseg's re_skip, the HMM on
# unknown runs, characters outside the Basic Multilingual Plane, empty and one-character text
EDGE_TEXTS = ["", "网", "a", " ", "\r\n", "\r\n\r\n治理", "第一\r二\n三\t四\u3000五 \xa0六", "１２３全角数字",
              "增长6.5%，达到3.14.15版", "a.5%b..c", "x1.2.3%%y", "+#&._%-混合", "𠮷野家和🙂表情", "龘靐齉爩",
              "张三李四王五赵六钱七孙八", "塞罕坝机械林场", "很长" * 3000, "ABC123abc中文-2020_v1.0"]


@pytest.mark.parametrize("text", EDGE_TEXTS, ids=range(len(EDGE_TEXTS)))
@pytest.mark.parametrize("hmm", [True, False])
def test_native_matches_jieba_on_edge_cases(native, text, hmm):
    import jieba

    assert native._native.cut_batch([text], hmm)[0] is not None
    vocab, ids, _ = Segmenter(backend="native", hmm=hmm).cut_batch([text])
    assert [vocab[i] for i in ids] == jieba.lcut(text, HMM=hmm)


def test_native_batch_keeps_texts_apart(native):
    texts = ["推进网格化管理", "", "加强网格化管理。"]
    vocab, ids, lengths = native.cut_batch(texts)
    assert lengths.tolist() == [len(native.cut(t)) for t in texts]
    assert vocab[:2] == ["推进", "网格化管理"]  # first-seen order, like zhili.segment.encode


def test_native_force_split_words_as_jieba(native):
    import jieba
    import jieba.finalseg as finalseg
    from zhili._cut import Cutter

    text = "张三李四王五赵六钱七孙八"
    hmm_word = next(w for w in jieba.lcut(text) if len(w) > 1 and w not in jieba.dt.FREQ)
    finalseg.Force_Split_Words.add(hmm_word)
    try:
        expected = jieba.lcut(text)
        cutter = Cutter(jieba.dt.FREQ, jieba.dt.total, finalseg.start_P, finalseg.trans_P, finalseg.emit_P,
                        finalseg.Force_Split_Words)
    finally:
        finalseg.Force_Split_Words.discard(hmm_word)
    vocab, ids, _ = cutter.cut_batch([text])
    assert hmm_word not in expected
    assert [vocab[i] for i in np.frombuffer(ids, np.int32)] == expected


def test_native_rejects_bad_input(native):
    from zhili._cut import Cutter

    with pytest.raises(TypeError, match=r"texts\[1\]"):
        native._native.cut_batch(["治理", 3])
    with pytest.raises(ValueError, match="total"):
        Cutter({"治理": 1}, 0, {}, {}, {})
    assert native.cut("治理") == ["治理"]  # a failed batch leaves the cutter usable


def test_auto_prefers_native_when_compiled():
    from zhili.segment import native_available

    expected = "native" if native_available() else "rjieba"
    assert Segmenter().config.resolved_backend == expected


def test_native_is_compiled_where_required():
    """CI sets ZHILI_REQUIRE_NATIVE=1: a missing C build must fail there, not fall back quietly."""
    from zhili.segment import native_available

    if os.environ.get("ZHILI_REQUIRE_NATIVE") == "1":
        assert native_available(), "zhili._cut was not built; is a C compiler installed?"
    elif not native_available():
        pytest.skip("zhili._cut not compiled; zhili falls back to rjieba")


@pytest.fixture(scope="module")
def reports_by_jieba(plain, shared_data):
    """The government reports (normalised) and plain jieba's tokens of each, computed once."""
    path = shared_data("gov_work_reports") / "docs.jsonl.gz"
    texts = [normalize(json.loads(line)["text"]) for line in gzip.open(path, "rt", encoding="utf-8")]
    return texts, [plain.cut(t) for t in texts]


def test_parity_on_government_reports(quick, reports_by_jieba):
    texts, expected = reports_by_jieba
    vocab, ids, lengths = quick.cut_batch(texts)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    mismatched = [i for i in range(len(texts)) if [vocab[j] for j in ids[bounds[i]:bounds[i + 1]]] != expected[i]]
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


# --- astral characters, the segment command, the compiled dictionary ------------------------

ASTRAL = ["𠀀𠀀", "网格𠀀𠀀化", "𠀀𠀀𠀀 推进😀😀治理", "㐀㐀社会治理", "龦龦", "推進﨑﨑網格", "𪚥𪚥𪚥管理", "𠀀a𠀀"]


@pytest.mark.parametrize("text", ASTRAL)
@pytest.mark.parametrize("hmm", [True, False])
def test_rjieba_fallback_matches_jieba_on_astral_characters(text, hmm, plain):
    """Regression: jieba-rs cut 𠀀𠀀 as one Han word; jieba makes each a token (155 of 20,151 fuzzed cases)."""
    rj = Segmenter(backend="rjieba", hmm=hmm)
    jb = Segmenter(backend="jieba", hmm=hmm)
    assert rj.cut(text) == jb.cut(text)


def _cli(*args, input=None, env=None):
    return subprocess.run([sys.executable, "-m", "zhili.cli", "segment", *args], input=input,
                          capture_output=True, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("make, detail", [
    (lambda tmp: tmp / "absent.txt", "no such file"),
    (lambda tmp: tmp, "folder"),
    (lambda tmp: (tmp / "gbk.txt", (tmp / "gbk.txt").write_bytes("推进社会治理".encode("gbk")))[0], "not UTF-8"),
], ids=["missing", "directory", "not_utf8"])
def test_segment_command_bad_input_is_a_coded_error(tmp_path, make, detail):
    out = _cli(str(make(tmp_path)))
    err = out.stderr.decode()
    assert out.returncode == 1 and "[E170]" in err and detail in err and "Traceback" not in err


KEEP_ALL_LINES = ["\ufeff推进市域社会治理", "网格化\r管理", "a  b   c", "  首尾空格  ", "全角\u3000空格\t制表",
                  "貫徹落實習近平總書記指示", "", "三降三升。"]


def test_segment_keep_all_rejoins_to_its_input_exactly_regression():
    """Today a BOM became a token, a bare \\r split a line and runs of spaces collapsed."""
    from zhili.segment import rejoin

    data = ("\r\n".join(KEEP_ALL_LINES[:3]) + "\n" + "\n".join(KEEP_ALL_LINES[3:]) + "\n").encode("utf-8")
    out = _cli("--keep-all", input=data)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode("utf-8").split("\n")
    assert lines[-1] == "" and [rejoin(line) for line in lines[:-1]] == [KEEP_ALL_LINES[0][1:], *KEEP_ALL_LINES[1:]]
    assert lines[0].split(" ")[0] == "推进"  # the byte-order mark is not a token


def test_segment_lines_equals_the_per_line_path(native, seed_text):
    lines = seed_text.split("\n")
    for keep_all in (False, True):
        block = native.segment_lines(seed_text, keep_all=keep_all)
        per_line = []
        for line in lines:
            toks = native.segment(line, keep_all=True)
            per_line.append(" ".join(toks if keep_all else [t for t in toks if any(ch.isalnum() for ch in t)]))
        assert block == "\n".join(per_line) + "\n"
    rj = Segmenter(backend="rjieba")
    assert rj.segment_lines(seed_text) == native.segment_lines(seed_text)


def test_compiled_dictionary_is_cached_and_a_bad_file_is_rebuilt(tmp_path, monkeypatch, seed_text):
    pytest.importorskip("zhili._cut")
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path))
    first = Segmenter(backend="native")
    expected = first.segment_lines(seed_text)
    [blob] = (tmp_path / "dictionaries").glob("*.zcut")
    assert blob.stem == first.source_key
    import builtins

    real_import = builtins.__import__

    def no_jieba(name, *args, **kwargs):
        if name.startswith("jieba"):
            raise AssertionError("rebuilt from jieba although a compiled dictionary was cached")
        return real_import(name, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(builtins, "__import__", no_jieba)
        assert Segmenter(backend="native").segment_lines(seed_text) == expected
    for damage in (b"", blob.read_bytes()[:1000], b"ZHCUTBL1" + b"\xff" * 5000):
        blob.write_bytes(damage)
        assert Segmenter(backend="native").segment_lines(seed_text) == expected
        assert blob.read_bytes()[:8] == b"ZHCUTBL1" and blob.stat().st_size > 1_000_000


def test_native_blob_loader_refuses_malformed_blobs(native):
    from zhili._cut import Cutter

    blob = bytearray(native._native.dump())
    assert Cutter.load(bytes(blob)).cut_batch(["网格化管理"])[0] == native._native.cut_batch(["网格化管理"])[0]
    for bad in (b"", bytes(blob[:-1]), bytes(blob) + b"x"):
        with pytest.raises(ValueError):
            Cutter.load(bad)
    parent_of_node_1 = 8 + 8 * 5 + 8 * 21 + 4  # magic, header, then parent[1]
    broken = bytearray(blob)
    broken[parent_of_node_1:parent_of_node_1 + 4] = (10**9).to_bytes(4, "little")
    with pytest.raises(ValueError, match="trie"):
        Cutter.load(bytes(broken))


def test_editing_a_user_dictionary_takes_effect(tmp_path):
    """Regression: get_segmenter was cached on the dictionary's path, so an edited file was ignored."""
    from zhili.segment import SegmenterConfig, get_segmenter

    userdict = tmp_path / "user.txt"
    userdict.write_text("# empty\n", encoding="utf-8")
    config = SegmenterConfig(backend="rjieba", user_dicts=(str(userdict),))
    assert "三降三升" not in get_segmenter(config).cut("实现三降三升")
    userdict.write_text("三降三升 10 nz\n", encoding="utf-8")
    assert "三降三升" in get_segmenter(config).cut("实现三降三升")


def test_user_dict_that_is_a_folder_is_a_coded_error(tmp_path):
    with pytest.raises(ZhiliError, match="E173"):
        Segmenter(user_dicts=[tmp_path]).cut("网格")


def test_segment_path_imports_no_pandas_or_scipy(tmp_path):
    """`zhili segment` needs neither pandas nor scipy (nor jieba once its dictionary is compiled).

    The package body (zhili/__init__.py) is skipped here: it is checked on its own elsewhere."""
    import zhili

    package = os.path.dirname(zhili.__file__)
    code = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("zhili", {os.path.join(package, "__init__.py")!r},
                                              submodule_search_locations=[{package!r}])
sys.modules["zhili"] = importlib.util.module_from_spec(spec)
from zhili.cli import main
main(["segment"])
main(["segment"])
print(sorted(m for m in ("pandas", "scipy", "sklearn", "matplotlib") if m in sys.modules))
"""
    env = {**os.environ, "ZHILI_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], input="推进市域社会治理\n".encode(), capture_output=True, env=env)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().splitlines()[-1] == "[]"


def test_segment_command_output_unchanged_on_all_reports(shared_data, native):
    """`zhili segment` cuts whole blocks in C now; its output is byte-identical to the per-line path."""
    path = shared_data("gov_work_reports") / "docs.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = [p for rec in map(json.loads, fh) for p in rec["text"].split("\n") if p.strip()]
    expected = []
    for line in lines:
        toks = native.segment(line, keep_all=False)
        expected.append(" ".join(t for t in toks if any(ch.isalnum() for ch in t)))
    assert native.segment_lines("\n".join(lines) + "\n") == "\n".join(expected) + "\n"
