"""Texts on disk (zhili.textstore) and spilled corpora: the same results as texts in memory."""

import gc
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zhili
from zhili.corpus import corpus_from_texts
from zhili.formulations import formulation_examples, formulation_table
from zhili.kwic import kwic
from zhili.textstore import READ_BLOCK, LazyTexts, TextStore
from zhili.tokens import tokens

SEED_LIKE = ["坚持“五大导向”，推进三降三升。\n\n一张网、五统一。", "網格化服務管理\n矛盾纠纷多元化解。", "平安建设",
             "Latin 与 emoji 😀\r\n第二段"]


def test_store_reads_back_every_text_in_any_order(tmp_path):
    store = TextStore(tmp_path)
    store.extend(SEED_LIKE + [""])
    store.append("\ud800 a lone surrogate")  # stored as given (ingest repairs them before)
    assert store[5] == "\ud800 a lone surrogate"
    assert len(store) == 6 and store[4] == "" and store[-3] == SEED_LIKE[-1]
    assert store[1:3] == SEED_LIKE[1:3]
    assert list(store.take([3, 0, 1, 2, 2])) == [SEED_LIKE[i] for i in (3, 0, 1, 2, 2)]
    with pytest.raises(IndexError):
        store[6]


def test_store_reads_long_runs_in_blocks(tmp_path, monkeypatch):
    import zhili.textstore as textstore

    monkeypatch.setattr(textstore, "READ_BLOCK", 10)
    store = TextStore(tmp_path)
    texts = [f"第{i}段治理" * (i % 4) for i in range(50)]
    store.extend(texts)
    assert list(store.take(range(50))) == texts and READ_BLOCK > 10


def test_store_file_is_removed_when_the_store_is_collected(tmp_path):
    store = TextStore(tmp_path)
    store.append("网格")
    path = store.path
    assert path.exists()
    del store
    gc.collect()
    assert not path.exists()


def test_store_pickles_by_path_for_worker_processes(tmp_path):
    store = TextStore(tmp_path)
    store.extend(SEED_LIKE)
    copy = pickle.loads(pickle.dumps(store))
    assert list(copy) == SEED_LIKE
    del copy
    gc.collect()
    assert store.path.exists() and store[0] == SEED_LIKE[0]  # the copy does not delete the file


def test_lazy_texts_join_rows():
    store = TextStore()
    store.extend(["甲", "乙", "丙"])
    joined = LazyTexts(store, [np.array([0, 1]), np.array([2])], joiner="\n")
    assert len(joined) == 2 and joined[0] == "甲\n乙" and joined[-1] == "丙" and list(joined) == ["甲\n乙", "丙"]


@pytest.mark.parametrize("unit", ["document", "paragraph", "sentence"])
def test_spilled_corpus_gives_the_same_units_tokens_and_tables(unit):
    c = corpus_from_texts(SEED_LIKE, docvars={"year": [2019, 2020, None, 2021], "city": ["南通", "苏州", "南通", None]})
    a, b = c.reshape(unit), c.spill().reshape(unit)
    assert "text" not in b.docs and a.texts == b.texts and [a.text_at(i) for i in range(len(a))] == b.texts
    pd.testing.assert_frame_equal(a.docvars, b.docvars)
    for n_jobs in (1, 2):
        ta, tb = tokens(a, cache=False, n_jobs=n_jobs), tokens(b, cache=False, n_jobs=n_jobs)
        assert ta.vocab == tb.vocab and [x.tolist() for x in ta.ids] == [x.tolist() for x in tb.ids]
    pd.testing.assert_frame_equal(formulation_table(a, by=["city"], cache=False), formulation_table(b, by=["city"], cache=False))
    pd.testing.assert_frame_equal(formulation_examples(a, cache=False), formulation_examples(b, cache=False))
    pd.testing.assert_frame_equal(kwic(a, "治理"), kwic(b, "治理"))
    mask = [i % 2 == 0 for i in range(len(a))]
    assert a.subset(mask).texts == b.subset(mask).texts
    wa, wb = a.whole_documents(), b.whole_documents()
    assert list(wa[0]) == list(wb[0]) and wa[1] == wb[1]


def test_spilled_ingest_equals_ingest_in_memory_on_web_pages(tmp_path):
    pages = {"a.html": "<p>欢迎访问某某网</p>\n<p>推进网格(wǎng gé)化管理。</p>\n来源：人民网 发布时间：2021-03-04",
             "b.html": "<p>欢迎访问某某网</p>\n<p>矛盾纠纷多元化解。</p>",
             "c.html": "<p>欢迎访问某某网</p>\n<p>平安建设。</p>",
             "d.txt": "首页 > 新闻 > 正文\n分享到：", "e.txt": "  "}
    for name, text in pages.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    a, b = zhili.corpus(tmp_path), zhili.corpus(tmp_path, spill=True)
    assert a.texts == b.texts
    pd.testing.assert_frame_equal(a.docs.drop(columns="text"), b.docs)
    pd.testing.assert_frame_equal(a.log, b.log)
    assert a.warnings == b.warnings


def test_run_spills_its_texts_and_writes_the_same_tables(tmp_path):
    from zhili.pipeline import RunSettings, run, to_units

    res = run(RunSettings(unit="paragraph", topics=3, by=["year"], out=str(tmp_path / "out"), cache=False, report=False))
    assert res.units.store is not None and "text" not in res.units.docs
    units = to_units(zhili.corpus(), RunSettings(unit="paragraph"))
    assert res.units.texts == units.texts
    text_of = dict(zip(zip(units.docs["doc_id"], units.docs["position"]), units.texts))
    passages = res.frames["topic_passages"]
    assert len(passages)
    for row in passages.itertuples():
        assert row.passage.strip("…") in text_of[(row.doc_id, row.position)]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(st.text(alphabet=st.sampled_from("网格化治理。\n\r 甲乙😀a"), max_size=30), min_size=1, max_size=6),
       st.sampled_from(["document", "paragraph", "sentence"]))
def test_spill_is_invisible_property(texts, unit):
    c = corpus_from_texts(texts)
    a, b = c.reshape(unit), c.spill().reshape(unit)
    assert a.texts == b.texts and a.unit_ids == b.unit_ids
    pd.testing.assert_frame_equal(a.docvars, b.docvars)
    assert list(a.whole_documents()[0]) == list(b.whole_documents()[0])


def test_store_on_a_full_disk_is_E133_not_a_bare_oserror(tmp_path, monkeypatch):
    """Bug: a full TMPDIR gave a bare OSError traceback from `zhili run` (ENOSPC in TextStore.flush)."""
    import errno
    import os

    import zhili.textstore as ts
    from zhili.dtm import _Spool
    from zhili.errors import ZhiliError

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    store = TextStore(tmp_path)
    store.append("网格化")
    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(ZhiliError, match=r"E133.*No space left on device.*TMPDIR") as info:
        store.flush()
    assert isinstance(info.value, OSError)
    monkeypatch.setattr(os, "mkdir", full)
    with pytest.raises(ZhiliError, match="E133"):
        TextStore(tmp_path / "new")
    monkeypatch.setattr(ts.tempfile, "TemporaryFile", full)
    with pytest.raises(ZhiliError, match="E133"):
        _Spool()


def test_store_without_pread_reads_and_writes_by_seeking(tmp_path, monkeypatch):
    """Bug: TextStore used os.pread, which Windows lacks (AttributeError on every spilled read)."""
    import os

    monkeypatch.delattr(os, "pread")
    monkeypatch.delattr(os, "pwrite")
    store = TextStore(tmp_path)
    texts = ["甲\r\n乙", "", "\x1a丙😀", "丁" * 1000]
    store.extend(texts)
    assert store[0:4] == texts and store[2] == texts[2]
    store.append("戊")
    assert list(pickle.loads(pickle.dumps(store))) == texts + ["戊"]


def test_store_read_by_threads_while_fresh_writes_each_text_once(tmp_path):
    """A race (seen in the code, not reproduced): threads reading a store with unwritten texts could each
    flush them (written twice; a text appended meanwhile dropped). Flushing is now locked and positional."""
    from concurrent.futures import ThreadPoolExecutor

    store = TextStore(tmp_path)
    texts = [f"第{i}条 网格化" * (i % 7 + 1) for i in range(2000)]
    store.extend(texts)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: store[i], range(len(texts))))
    assert got == texts and store.path.stat().st_size == sum(len(t.encode()) for t in texts)


def test_store_unpickled_after_its_file_is_gone_is_E134(tmp_path):
    """Bug: a spilled corpus pickled and loaded in a later session (its process, and so its temporary
    file, gone) failed with a bare FileNotFoundError naming a zhili-texts-* file."""
    from zhili.errors import ZhiliError

    c = corpus_from_texts(["网格化"]).spill(tmp_path)
    data = pickle.dumps(c)
    c.store.path.unlink()
    with pytest.raises(ZhiliError, match="E134.*spill=False") as info:
        pickle.loads(data)
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="POSIX: a process' existence is tested with kill(pid, 0)")
def test_stores_left_by_killed_processes_are_removed_and_live_ones_kept(tmp_path):
    """Bug: SIGKILL (or the out-of-memory killer) left a run's spilled texts in TMPDIR for good."""
    import os
    import subprocess
    import sys

    from zhili.textstore import _prefix, remove_stale_stores

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"{_prefix()}{gone.stdout.strip()}-abc.utf8"
    alive = tmp_path / f"{_prefix()}{os.getppid()}-def.utf8"
    other_host = tmp_path / f"zhili-texts-elsewhere-{gone.stdout.strip()}-ghi.utf8"
    for path in (dead, alive, other_host):
        path.write_bytes(b"x")
    store = TextStore(tmp_path)  # a new store sweeps its folder
    assert not dead.exists() and alive.exists() and other_host.exists() and store.path.exists()
    assert remove_stale_stores(tmp_path) == []
