"""The Dask engine (``zhili run --engine dask``): normalise, segment and filter on a Dask cluster.

The local engine cuts the units into shards (:meth:`zhili.corpus.Corpus.shards`), and each of its
processes takes a contiguous group of shards, segments each shard with the pure function
:func:`zhili.tokens.segment_shard` (from the on-disk cache when it is there), merges the group's
vocabularies and filters them (:func:`zhili.tokens._segment_group`); the groups are merged in
shard order (:func:`zhili.tokens._merge`) and counted (:func:`zhili.dtm.dtm`). The Dask engine
maps the same group function over contiguous partitions of the same shards on the workers of a
cluster and reduces their vocabularies here in the same order, so the tokens, the vocabulary order,
the DTM, ``documents.csv`` and ``terms.csv`` are identical to the local engine's for any number of
workers or partitions. Ingest (reading, bylines, web cleaning, sidecars) and everything after the
DTM (topic fitting, comparisons, tables, report) stay on this machine.

Each worker checks that it would cut and filter exactly as this machine (the segmenter fingerprint
covers zhili's code, jieba and every dictionary file; the filter key every stopword and synonym)
and refuses otherwise (E184). Texts travel to the workers with the tasks, so the workers need zhili
and the dictionary files at the same paths, not the sources.

>>> partitions(10, 2)
[(0, 2), (2, 5), (5, 7), (7, 10)]
>>> local_workers(3)
3
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from .errors import E, ZhiliError

CONNECT_TIMEOUT = 5  # seconds to reach a scheduler, and for it to have a worker
PARTITIONS_PER_THREAD = 2  # more partitions than threads balance uneven shards; each adds one merge here


def require_distributed() -> Any:
    """The ``distributed`` module, or E180 saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ZhiliError(E.E180, detail=exc) from None
    return distributed


def check_engine(engine: str, scheduler: str | None) -> None:
    """Fail before any work when the settings cannot run: a scheduler without the Dask engine
    (E182), or the Dask engine without Dask installed (E180).

    >>> check_engine("local", None)
    """
    if scheduler and engine != "dask":
        raise ZhiliError(E.E182, address=scheduler, engine=engine)
    if engine == "dask":
        require_distributed()


def local_workers(n_jobs: int) -> int:
    """Worker processes of a local cluster for ``n_jobs`` (:func:`zhili.parallel.n_workers`, as everywhere)."""
    from .parallel import n_workers

    return n_workers(n_jobs)


@contextmanager
def cluster(scheduler: str | None = None, n_jobs: int = -1) -> Iterator[tuple[Any, dict]]:
    """A ``distributed.Client`` and its manifest record: connected to ``scheduler`` (E181 when it
    cannot be reached within :data:`CONNECT_TIMEOUT` seconds or has no worker), or to a
    ``LocalCluster`` of :func:`local_workers` processes with one thread each, closed afterwards."""
    import logging

    distributed = require_distributed()
    local = None
    try:
        if scheduler:
            try:
                client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, ValueError, TypeError) as exc:
                raise ZhiliError(E.E181, address=scheduler, timeout=CONNECT_TIMEOUT, detail=exc) from None
            label = scheduler
        else:
            n = local_workers(n_jobs)
            with _thread_variables_for_the_workers_only():
                local = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                 dashboard_address=None, silence_logs=logging.ERROR)
            client = distributed.Client(local, set_as_default=False)
            label = f"LocalCluster n_workers={n}"
        try:
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError):
                raise ZhiliError(E.E185, address=label, timeout=CONNECT_TIMEOUT) from None
            yield client, engine_record(client, label)
        finally:
            client.close()
    finally:
        if local is not None:
            local.close()


#: Variables that distributed's nannies set in *this* process's environment before spawning a worker
#: (``distributed.nanny.pre-spawn-environ``) and leave there: a BLAS or OpenMP library loaded here
#: afterwards ran on one thread, and its sums came out in another order than the local engine's
#: (topic_prevalence differed in the last digits).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@contextmanager
def _thread_variables_for_the_workers_only() -> Iterator[None]:
    """Nannies made meanwhile set :data:`THREAD_VARIABLES` in their worker once it runs
    (``distributed.nanny.environ``), not in this process before spawning it."""
    import dask

    pre = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default=None) or {})
    post = dict(dask.config.get("distributed.nanny.environ", default=None) or {})
    moved = {k: pre.pop(k) for k in THREAD_VARIABLES if k in pre}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": pre,
                          "distributed.nanny.environ": {**moved, **post}}):
        yield


class LazyCluster:
    """:func:`cluster` with a local cluster started on first use, so a run whose tokens all come from
    the on-disk cache starts none (a given ``scheduler`` is connected to at once, so a wrong address
    is always E181); ``record`` is the manifest's (``started``: whether a client was made). Use it as
    a context manager (closed on exit) and pass it where a client is taken.

    >>> with LazyCluster(None, 2) as lazy:
    ...     lazy.record["scheduler"], lazy.record["started"]
    ('LocalCluster n_workers=2', False)
    """

    def __init__(self, scheduler: str | None = None, n_jobs: int = -1) -> None:
        from importlib.metadata import version

        self.scheduler, self.n_jobs = scheduler, n_jobs
        self._client, self._stack = None, ExitStack()
        self.record = {"engine": "dask", "scheduler": scheduler or f"LocalCluster n_workers={local_workers(n_jobs)}",
                       "dask": version("dask"), "distributed": version("distributed"), "started": False}

    @property
    def client(self) -> Any:
        """The ``distributed.Client``, connected or started now when it is the first use."""
        if self._client is None:
            self._client, record = self._stack.enter_context(cluster(self.scheduler, self.n_jobs))
            self.record.update(record, started=True)
        return self._client

    def __enter__(self) -> LazyCluster:
        if self.scheduler:
            self.client  # noqa: B018 - connect now: an existing cluster costs nothing to reach
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def engine_record(client: Any, label: str) -> dict:
    """What the manifest records of the cluster: the scheduler (or the local cluster), the Dask and
    distributed versions here and the workers' threads."""
    import dask
    import distributed

    threads = client.nthreads()
    return {"engine": "dask", "scheduler": label, "dask": dask.__version__, "distributed": distributed.__version__,
            "workers": len(threads), "threads": int(sum(threads.values()))}


def partitions(n_shards: int, n_threads: int, size: int | None = None) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` shard ranges: :data:`PARTITIONS_PER_THREAD` per worker thread, or
    ranges of at most ``size`` shards.

    >>> partitions(10, 2), partitions(10, 2, size=4)
    ([(0, 2), (2, 5), (5, 7), (7, 10)], [(0, 4), (4, 8), (8, 10)])
    """
    if size is not None:
        return [(a, min(n_shards, a + size)) for a in range(0, n_shards, max(1, size))] or [(0, 0)]
    n = max(1, min(n_shards, PARTITIONS_PER_THREAD * max(1, n_threads)))
    return [(n_shards * i // n, n_shards * (i + 1) // n) for i in range(n)]


def segment_partition(config, tagged: bool, filter, shards: list[list[str]], keys: Sequence[str],
                      cache_dir: Path | None, expected: tuple[str, str]) -> dict:
    """On a worker: :func:`zhili.tokens._segment_group` over one partition, after checking that this
    worker cuts and filters as the client does (E184); shards are cached in ``cache_dir`` when
    the worker can write there (a shared folder, or the same machine)."""
    from .segment import get_segmenter
    from .tokens import _final_key, _segment_group, shard_cache_path

    here = (get_segmenter(config).fingerprint, _final_key([], filter))
    for what, theirs, ours in zip(("segmenter fingerprint", "filter key"), here, expected):
        if theirs != ours:
            raise ZhiliError(E.E184, worker=_worker_address(), what=what, theirs=theirs[:16], ours=ours[:16])
    paths = [shard_cache_path(cache_dir, k) for k in keys] if _writable(cache_dir) else [None] * len(shards)
    return _segment_group(config, tagged, filter, shards, paths)


def segment_groups(client: Any, shards: Sequence[list[str]], keys: Sequence[str], cache_dir: Path | None, config,
                   tagged: bool, filter, progress: bool | None = None,
                   round_shards: int | None = None) -> Iterator[dict]:
    """:func:`zhili.tokens._iter_segment_groups` on the workers of ``client`` (a ``distributed.Client`` or
    a :class:`LazyCluster`): yields each partition's packed, filtered tokens in shard order, with
    ``n_cached`` (its shards that came from the cache). With ``round_shards``, partitions hold at
    most that many shards and only :data:`PARTITIONS_PER_THREAD` per worker thread are sent at a
    time, so this process holds those partitions' texts and tokens only, however large the corpus."""
    require_distributed()
    if isinstance(client, LazyCluster):
        client = client.client
    from .segment import get_segmenter
    from .tokens import _final_key, _progress_bar

    expected = (get_segmenter(config).fingerprint, _final_key([], filter))
    threads = sum(client.nthreads().values())
    bounds = partitions(len(shards), threads, round_shards)
    window = len(bounds) if round_shards is None else PARTITIONS_PER_THREAD * max(1, threads)
    pending: deque = deque()  # (partition, its scattered texts, its future), in shard order
    bar = _progress_bar(len(shards), progress)
    try:
        for i in range(len(bounds) + 1):
            if i < len(bounds):
                a, b = bounds[i]
                try:  # a worker lost meanwhile fails the scatter (CommClosedError)
                    [data] = client.scatter([list(shards[a:b])], hash=False)
                    future = client.submit(segment_partition, config, tagged, filter, data, list(keys[a:b]),
                                           cache_dir, expected, pure=False)
                except Exception as exc:  # noqa: BLE001 - a worker's failure, said in words
                    raise _worker_failed(i, len(bounds), exc) from exc
                pending.append((i, data, future))
            while pending and (len(pending) >= window or i == len(bounds)):
                j, data, future = pending.popleft()
                try:
                    part = future.result()
                except ZhiliError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a worker's failure, said in words
                    raise _worker_failed(j, len(bounds), exc) from exc
                client.cancel([future, data])
                bar.update(bounds[j][1] - bounds[j][0])
                yield part
    finally:
        bar.close()
        client.cancel([x for _, data, future in pending for x in (data, future)])


def _worker_failed(j: int, n: int, exc: Exception) -> ZhiliError:
    from . import __version__

    return ZhiliError(E.E183, partition=j + 1, n=n, detail=f"{type(exc).__name__}: {exc}", version=__version__)


def _writable(folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "(not a Dask worker)"
