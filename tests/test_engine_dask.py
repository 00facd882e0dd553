"""The Dask engine: the main job on a local cluster writes the same documents, terms and DTM as the local engine."""

import gzip
import json
import subprocess
import sys
from functools import partialmethod

import numpy as np
import pytest

pytest.importorskip("distributed")

from zhili import dask_engine  # noqa: E402
from zhili.corpus import Corpus, corpus  # noqa: E402
from zhili.errors import ZhiliError  # noqa: E402
from zhili.pipeline import RunSettings, run  # noqa: E402
from zhili.segment import SegmenterConfig  # noqa: E402
from zhili.tokens import TokenFilter, tokens  # noqa: E402

N_CITY_REPORTS = 10


@pytest.fixture(scope="module")
def sources(shared_data, tmp_path_factory, seed_path):
    """The seed folder and the first city reports of the government work reports, as one .jsonl.gz."""
    folder = tmp_path_factory.mktemp("dask-corpus")
    out = folder / "city_reports.jsonl.gz"
    with gzip.open(shared_data("gov_work_reports") / "docs.jsonl.gz", "rt", encoding="utf-8") as src, \
            gzip.open(out, "wt", encoding="utf-8") as dst:
        n = 0
        for line in src:
            if json.loads(line).get("level") == "city":
                dst.write(line)
                n += 1
                if n == N_CITY_REPORTS:
                    break
    return [str(seed_path.parent), str(out)]


@pytest.fixture(scope="module")
def client():
    with dask_engine.cluster(None, n_jobs=2) as (c, record):
        assert record["scheduler"] == "LocalCluster n_workers=2" and record["workers"] == 2
        yield c


@pytest.fixture
def small_shards(monkeypatch):
    """Shards of about 5,000 characters, so a small corpus spreads over every partition."""
    monkeypatch.setattr(Corpus, "shards", partialmethod(Corpus.shards, max_chars=5_000))


def _same_tokens(a, b):
    assert a.vocab == b.vocab
    assert len(a.ids) == len(b.ids) and all(np.array_equal(x, y) for x, y in zip(a.ids, b.ids))
    assert a.docvars.equals(b.docvars)


def test_run_with_dask_engine_writes_the_local_engines_tables(sources, client, tmp_path):
    common = dict(sources=sources, unit="paragraph", cache=False, report=False)
    address = client.scheduler.address  # the module's local cluster, reached as --scheduler reaches one
    local = run(RunSettings(**common, out=str(tmp_path / "local")))
    dask = run(RunSettings(**common, out=str(tmp_path / "dask"), engine="dask", scheduler=address))
    for name in ("documents.csv", "terms.csv"):
        assert (tmp_path / "dask" / "tables" / name).read_bytes() == (tmp_path / "local" / "tables" / name).read_bytes()
    assert (dask.dtm.vocabulary == local.dtm.vocabulary).all()
    assert (dask.dtm.matrix != local.dtm.matrix).nnz == 0 and dask.dtm.docvars.equals(local.dtm.docvars)
    assert local.manifest["engine"] == {"engine": "local", "n_jobs": 1}
    assert dask.manifest["engine"]["scheduler"] == address and dask.manifest["engine"]["workers"] == 2
    assert dask.manifest["engine"]["dask"] and dask.manifest["settings"]["engine"] == "dask"
    assert dask.manifest["counts"] == local.manifest["counts"] and dask.manifest["engine"]["started"]


def test_a_run_from_the_cache_starts_no_local_cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path / "cache"))
    first = run(RunSettings(report=False, out=str(tmp_path / "a")))  # the cache does not depend on the engine
    again = run(RunSettings(report=False, out=str(tmp_path / "b"), engine="dask"))
    assert again.manifest["engine"]["started"] is False and again.manifest["segmenter"]["cache"] == "hit"
    assert again.manifest["engine"]["scheduler"] == f"LocalCluster n_workers={dask_engine.local_workers(1)}"
    assert (tmp_path / "a" / "tables" / "terms.csv").read_bytes() == (tmp_path / "b" / "tables" / "terms.csv").read_bytes()
    assert first.manifest["engine"]["engine"] == "local"


def test_a_given_scheduler_is_reached_even_when_the_cache_has_everything(tmp_path, monkeypatch):
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", 1)
    run(RunSettings(report=False, out=str(tmp_path / "a")))
    with pytest.raises(ZhiliError, match=r"E181.*tcp://127\.0\.0\.1:9"):
        run(RunSettings(report=False, out=str(tmp_path / "b"), engine="dask", scheduler="tcp://127.0.0.1:9"))


@pytest.mark.parametrize("filter", [TokenFilter(), None, TokenFilter(stopwords="none", synonyms=False)],
                         ids=["default", "unfiltered", "no-stopwords-no-synonyms"])
def test_many_partitions_give_the_local_tokens(sources, client, small_shards, filter):
    units = corpus(*sources).reshape("paragraph")
    assert len(list(units.shards())) > 2 * dask_engine.PARTITIONS_PER_THREAD * 2
    _same_tokens(tokens(units, filter=filter, cache=False, client=client), tokens(units, filter=filter, cache=False))


def test_shards_cached_by_the_workers_are_reused(sources, client, small_shards, tmp_path):
    units = corpus(sources[0]).reshape("sentence")
    first = tokens(units, cache=tmp_path, client=client)
    (tmp_path / "final").rename(tmp_path / "final-old")  # the merged result must be rebuilt from the shards
    again = tokens(units, cache=tmp_path, client=client)
    n = len(list(units.shards()))
    assert first.meta["cache"] == f"0 of {n} shards" and again.meta["cache"] == f"{n} of {n} shards"
    _same_tokens(again, tokens(units, cache=False))


def test_a_failing_worker_is_a_coded_error(client):
    with pytest.raises(ZhiliError, match=r"E183.*partition 1 of 1"):
        list(dask_engine.segment_groups(client, [[None]], [""], None, SegmenterConfig(), False, TokenFilter()))


def test_a_worker_that_cuts_differently_refuses(tmp_path):
    with pytest.raises(ZhiliError, match="E184.*segmenter fingerprint"):
        dask_engine.segment_partition(SegmenterConfig(), False, TokenFilter(), [["推进"]], [""], None, ("x", "y"))


def test_an_unreachable_scheduler_is_a_coded_error_with_its_address(monkeypatch):
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ZhiliError, match=r"E181.*tcp://127\.0\.0\.1:9"):
        with dask_engine.cluster("tcp://127.0.0.1:9"):
            pass


def test_a_scheduler_without_the_dask_engine_is_refused_before_any_work(tmp_path):
    with pytest.raises(ZhiliError, match="E182.*--engine dask"):
        run(RunSettings(scheduler="tcp://127.0.0.1:8786", out=str(tmp_path / "r")))
    assert not (tmp_path / "r").exists()


def test_dask_engine_without_dask_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ZhiliError, match=r'E180.*pip install "zhili\[dask\]"') as exc:
        run(RunSettings(engine="dask", out=str(tmp_path / "r")))
    assert isinstance(exc.value, ImportError)


def test_zhili_and_the_local_engine_do_not_import_dask():
    from zhili.corpus import default_seed_dir

    seed = str(next(default_seed_dir().glob("*.txt")))
    code = ("import sys, zhili\n"
            "from zhili.cli import main\n"
            f"main(['-q', 'segment', {seed!r}])\n"
            "from zhili.pipeline import RunSettings, check_engine, ingest, tokenize\n"
            "s = RunSettings(cache=False)\n"
            "check_engine(s.engine, s.scheduler)\n"
            "tokenize(ingest(s), s)\n"
            "found = [m for m in ('dask', 'distributed') if m in sys.modules]\n"
            "sys.exit(f'imported {found}' if found else 0)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]



def test_dask_rounds_count_as_the_local_engine_with_few_partitions_in_flight(sources, client, small_shards,
                                                                             monkeypatch):
    """issue 12 (noticed): the Dask engine scattered every partition's texts at once, so this process
    held the whole corpus; counting round by round it sends PARTITIONS_PER_THREAD per thread at a time."""
    from zhili import dtm as dtm_module

    units = corpus(*sources).reshape("paragraph")
    local = dtm_module.dtm_counted(units, cache=False)
    sent, most = [], [0]
    scatter = type(client).scatter

    def counting_scatter(self, data, **kwargs):
        futures = scatter(self, data, **kwargs)
        sent.extend(futures)
        most[0] = max(most[0], sum(f.status == "finished" or f.status == "pending" for f in sent if not f.cancelled()))
        return futures

    monkeypatch.setattr(type(client), "scatter", counting_scatter)
    monkeypatch.setattr(dtm_module, "ROUND_SHARDS", 2)
    counted = dtm_module.dtm_counted(units, cache=False, client=client)
    assert len(sent) > 2 * dask_engine.PARTITIONS_PER_THREAD * 2  # many rounds
    assert 1 < most[0] <= dask_engine.PARTITIONS_PER_THREAD * 2 + 1, most
    assert list(counted.vocabulary) == list(local.vocabulary) and (counted.matrix != local.matrix).nnz == 0


def test_a_local_cluster_leaves_this_process_thread_variables_alone(monkeypatch):
    """`zhili run --engine dask` wrote a topic_prevalence table that differed from the local engine's in
    the last digits: distributed set OMP_NUM_THREADS=1 (and MKL_/OPENBLAS_) in this process before
    spawning its workers and left them, so BLAS loaded afterwards here summed on one thread."""
    import os

    for name in dask_engine.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with dask_engine.cluster(None, n_jobs=1) as (c, _):
        assert not {k for k in dask_engine.THREAD_VARIABLES if k in os.environ}
        workers = c.run(lambda: os.environ.get("OMP_NUM_THREADS"))
        assert set(workers.values()) == {"1"}  # the workers still run one BLAS thread each
    assert not {k for k in dask_engine.THREAD_VARIABLES if k in os.environ}


def test_a_worker_lost_while_texts_are_sent_is_a_coded_error(sources, client, small_shards, monkeypatch):
    """A worker killed mid-run made client.scatter raise distributed's CommClosedError, which escaped
    as a traceback instead of E183 (only the futures' results were turned into E183)."""
    from distributed.comm.core import CommClosedError

    from zhili import dtm as dtm_module

    scatter, calls = type(client).scatter, []

    def failing_scatter(self, data, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise CommClosedError("in <TCP (closed) ConnectionPool.scatter>: Stream is closed")
        return scatter(self, data, **kwargs)

    monkeypatch.setattr(type(client), "scatter", failing_scatter)
    monkeypatch.setattr(dtm_module, "ROUND_SHARDS", 2)
    with pytest.raises(ZhiliError, match=r"\[E183\].*partition 3 of .*CommClosedError"):
        dtm_module.dtm_counted(corpus(*sources).reshape("paragraph"), cache=False, client=client)
