import os

import numpy as np
import pytest

from zhili.corpus import corpus, corpus_from_texts
from zhili.errors import ZhiliError
from zhili.normalize import normalize
from zhili.tokens import TokenFilter, tokens, tokens_filter, tokens_replace

TEXTS = ["坚持推进网格化，服务群众，2019年发案下降10%。", "加强矛盾纠纷多元化解。GDP增长"]


@pytest.mark.parametrize("term, keep", [("网格化", True), ("的", False), ("推进", False), ("2019年", False),
                                        ("10%", False), ("，", False), ("GDP", True), ("化", False)])
def test_default_filter(term, keep):
    assert TokenFilter().keep(term) is keep


def test_filter_options():
    assert TokenFilter(stopwords="general").keep("推进")
    assert TokenFilter(numbers=True).keep("2019")
    assert not TokenFilter(latin=False).keep("GDP")
    assert TokenFilter(extra_stopwords=("网格化",)).keep("网格化") is False
    with pytest.raises(ZhiliError, match="E022"):
        TokenFilter(stopwords="some")


def test_tokens_keep_docvars_and_filter():
    c = corpus_from_texts(TEXTS, docvars={"city": ["南通", "苏州"]})
    toks = tokens(c, cache=False)
    assert toks[0][:2] == ["网格化", "服务"] and "推进" not in toks[0]
    assert toks.docvars["city"].tolist() == ["南通", "苏州"]
    raw = tokens(c, filter=None, cache=False)
    assert "".join(raw[0]) == normalize(TEXTS[0])


def test_pos_filter_needs_tagging():
    c = corpus_from_texts(TEXTS)
    nouns = tokens(c, filter=TokenFilter(pos=("n",)), cache=False)
    assert nouns[0] == ["网格化", "群众"]  # lexicon terms are tagged n; the verbs 服务, 下降 and 发案 go
    assert all(t not in nouns[1] for t in ("加强",))
    with pytest.raises(ZhiliError, match="E022"):
        tokens_filter(tokens(c, cache=False), TokenFilter(pos=("n",)))


def test_replace_merges_variants():
    c = corpus_from_texts(["矛盾纠纷 人民调解"])
    toks = tokens_replace(tokens(c, cache=False, filter=TokenFilter(synonyms=False)), {"人民调解": "矛盾纠纷"})
    assert set(toks[0]) == {"矛盾纠纷"} and len(toks[0]) == 2


def test_cache_and_parallel_give_identical_tokens(tmp_path):
    c = corpus().reshape("paragraph")
    first = tokens(c, cache=tmp_path)
    second = tokens(c, cache=tmp_path)
    parallel = tokens(c, cache=False, n_jobs=2)
    assert first.meta["cache"].startswith("0 of") and second.meta["cache"] == "hit"
    other_filter = tokens(c, cache=tmp_path, filter=TokenFilter(min_chars=1))
    assert other_filter.meta["cache"].startswith(str(len(list(c.shards()))))  # shards reused, filter redone
    assert first.to_lists() == second.to_lists() == parallel.to_lists()


def test_cache_key_changes_with_user_dictionary(tmp_path):
    c = corpus_from_texts(["南通推进三降三升"])
    userdict = tmp_path / "user.txt"
    userdict.write_text("三降三升 10 nz\n", encoding="utf-8")
    plain = tokens(c, cache=tmp_path / "cache", filter=None)
    custom = tokens(c, cache=tmp_path / "cache", filter=None, user_dicts=[userdict])
    assert "三降三升" in custom[0] and "三降三升" not in plain[0]
    assert custom.meta["cache"].startswith("0 of")


def test_ids_are_compact():
    toks = tokens(corpus_from_texts(TEXTS), cache=False)
    used = np.unique(np.concatenate(toks.ids))
    assert used.tolist() == list(range(len(toks.vocab)))


@pytest.mark.parametrize("settings", [{}, {"punctuation": True}, {"numbers": True, "latin": False, "min_chars": 1},
                                      {"stopwords": "none"}])
def test_keep_mask_agrees_with_keep(settings):
    f = TokenFilter(**settings)
    vocab = ["网格化", "的", "推进", "2019", "2019年", "一九五八年", "十四五", "GDP", "5G", "，", "。", " ", "\n", "化",
             "PM2.5", "10%", "A股", "——", "“"]
    assert f.keep_mask(vocab).tolist() == [f.keep(t) for t in vocab]


@pytest.fixture(scope="module")
def multi_shard_corpus(seed_text):
    """About 250k characters in several shards; the synonym variant 网格化管理 only in the last."""
    paragraphs = [p for p in normalize(seed_text).split("\n") if p.strip()]
    texts = [f"第{i}篇\n" + "\n".join(paragraphs[i % len(paragraphs):] + paragraphs[:i % len(paragraphs)])
             for i in range(52)]
    texts.append("推进网格化管理，落实一张网、五统一。")
    c = corpus_from_texts(texts)
    assert len(list(c.shards())) >= 3
    return c


@pytest.mark.parametrize("filter", [TokenFilter(), TokenFilter(min_chars=1, punctuation=True), None])
def test_parallel_groups_give_the_serial_result(multi_shard_corpus, filter):
    serial = tokens(multi_shard_corpus, cache=False, n_jobs=1, filter=filter)
    parallel = tokens(multi_shard_corpus, cache=False, n_jobs=3, filter=filter)
    assert parallel.vocab == serial.vocab
    assert all(np.array_equal(a, b) for a, b in zip(parallel.ids, serial.ids))
    if filter is not None and filter.synonyms:
        assert "网格化服务管理" in serial[-1] and "网格化管理" not in serial.vocab


def test_parallel_workers_fill_the_shard_cache(multi_shard_corpus, tmp_path):
    first = tokens(multi_shard_corpus, cache=tmp_path, n_jobs=2)
    n_shards = len(list(multi_shard_corpus.shards()))
    again = tokens(multi_shard_corpus, cache=tmp_path, n_jobs=2, filter=TokenFilter(min_chars=1))
    assert first.meta["cache"] == f"0 of {n_shards} shards" and again.meta["cache"] == f"{n_shards} of {n_shards} shards"


def test_parallel_under_spawn(multi_shard_corpus, monkeypatch):
    """Where fork is not used (Windows, macOS) the workers are spawned and load their own segmenter."""
    import sys

    monkeypatch.setattr(sys, "platform", "darwin")
    spawned = tokens(multi_shard_corpus, cache=False, n_jobs=2)
    monkeypatch.undo()
    assert spawned.to_lists() == tokens(multi_shard_corpus, cache=False, n_jobs=1).to_lists()


def test_no_fork_while_another_thread_runs(multi_shard_corpus, thread_running_and_no_fork):
    """A process with threads (a Jupyter kernel) is not forked: its workers are spawned."""
    spawned = tokens(multi_shard_corpus, cache=False, n_jobs=2)
    assert spawned.to_lists() == tokens(multi_shard_corpus, cache=False, n_jobs=1).to_lists()


def test_replace_keeps_first_seen_order():
    c = corpus_from_texts(["治理 群众 人民 服务"])
    raw = tokens(c, cache=False, filter=TokenFilter(synonyms=False, stopwords="none"), lexicon=False)
    assert raw.vocab == ["治理", "群众", "人民", "服务"]
    merged = tokens_replace(raw, {"群众": "公众", "人民": "公众"})
    assert merged.vocab == ["治理", "公众", "服务"]  # the canonical form at its earliest variant's place
    assert merged[0] == ["治理", "公众", "公众", "服务"]


def _cache_files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_cache_holds_no_pickles(tmp_path):
    tokens(corpus_from_texts(TEXTS), cache=tmp_path, filter=TokenFilter(pos=("n",)))
    files = _cache_files(tmp_path)
    assert files and all(p.suffix == ".npz" for p in files)
    for p in files:
        with np.load(p, allow_pickle=False) as npz:  # raises on any object array
            assert all(npz[k].dtype != object for k in npz.files)


class _Planted:
    def __reduce__(self):
        return (os.system, ("touch planted-by-cache",))


@pytest.mark.parametrize("damage", ["garbage", "pickle", "wrong_shape", "ids_out_of_range", "object_array"])
def test_corrupt_or_planted_cache_is_ignored_and_recomputed(tmp_path, damage, monkeypatch):
    import pickle

    monkeypatch.chdir(tmp_path)
    c = corpus_from_texts(TEXTS)
    cache = tmp_path / "cache"
    expected = tokens(c, cache=cache).to_lists()
    for p in _cache_files(cache):
        if damage == "garbage":
            p.write_bytes(b"\x00not a cache")
        elif damage == "pickle":
            p.write_bytes(pickle.dumps(_Planted()))
        elif damage == "wrong_shape":
            np.savez(p.open("wb"), ids=np.zeros((2, 2), np.int32))
        elif damage == "ids_out_of_range":
            with np.load(p) as npz:
                arrays = dict(npz)
            arrays["ids"] = arrays["ids"] + 10_000
            np.savez(p.open("wb"), **arrays)
        else:
            np.save(p.open("wb"), np.array([_Planted()], dtype=object), allow_pickle=True)
    again = tokens(c, cache=cache)
    assert again.meta["cache"] == f"0 of {len(list(c.shards()))} shards"
    assert again.to_lists() == expected
    assert not (tmp_path / "planted-by-cache").exists()
    assert tokens(c, cache=cache).meta["cache"] == "hit"  # rewritten with good entries


def test_merging_remaps_in_place_but_never_writes_to_a_read_only_shard(monkeypatch):
    import zhili.tokens as tokens_module

    monkeypatch.setattr(tokens_module, "REMAP_BLOCK", 2)  # several blocks per shard
    frozen = np.array([1, 0, 1, 1, 0], dtype=np.int32)
    frozen.flags.writeable = False
    own = np.array([0, 1, 0], dtype=np.int32)
    merger = tokens_module._Merger(tagged=False)
    merger.add({"vocab": ["网格", "治理"], "ids": frozen, "lengths": np.array([5])})
    merger.add({"vocab": ["治理", "法治"], "ids": own, "lengths": np.array([3])})
    packed = merger.packed()
    assert packed["vocab"] == ["网格", "治理", "法治"]
    assert [packed["vocab"][i] for i in packed["ids"]] == ["治理", "网格", "治理", "治理", "网格", "治理", "法治", "治理"]
    assert frozen.tolist() == [1, 0, 1, 1, 0] and merger.ids == []


def test_a_cache_folder_that_is_a_file_only_goes_uncached(tmp_path, monkeypatch):
    """ZHILI_CACHE_DIR pointing at a file: `zhili run` ended in a NotADirectoryError traceback from
    the shard cache's writer (the counts' writer already went on uncached)."""
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")
    c = corpus_from_texts(["推进网格化管理", "加强基层治理"])
    assert tokens(c).vocab == tokens(c, cache=False).vocab
    assert (tmp_path / "a-file").read_text() == "not a folder"
