"""zhili's one parallel layer: what ``n_jobs`` means, and running a function in worker processes.

``n_jobs`` means the same everywhere (segmentation, formulations, the K search, the Dask engine's
local cluster): ``1`` serial, ``N`` processes, ``-1`` all cores, ``-2`` all but one (as in joblib).

Workers are forked on Linux when this process runs no other thread (they then share its loaded
dictionaries and texts without copying them) and spawned otherwise — on Windows and macOS, and in
a process with threads such as a Jupyter kernel, where a fork could copy a lock another thread
holds.

>>> n_workers(1), n_workers(-1) == (os.cpu_count() or 1), n_workers(0)
(1, True, 1)
>>> [f() for f in start_workers(divmod, [(7, 2), (9, 4)])]
[(3, 1), (2, 1)]
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

_REAPER = "zhili-reaper"


def n_workers(n_jobs: int) -> int:
    """Processes for ``n_jobs``: ``-1`` all cores, ``-2`` all but one, … ; never fewer than 1."""
    cores = os.cpu_count() or 1
    return max(1, cores + 1 + n_jobs if n_jobs < 0 else n_jobs)


def single_threaded() -> bool:
    """Only this thread runs (besides the threads that reap finished workers), so a fork cannot
    copy a lock another thread holds."""
    return all(t is threading.current_thread() or t.name == _REAPER for t in threading.enumerate())


def can_fork() -> bool:
    """Workers are forked here: on Linux, when no other thread runs (:func:`single_threaded`)."""
    return sys.platform == "linux" and single_threaded()


def start_workers(fn: Callable[..., Any], jobs: Sequence[tuple]) -> list[Callable[[], Any]]:
    """Start ``fn(*args)`` for each ``args`` of ``jobs`` in its own worker process; returns one
    function per job that waits for and returns its result (re-raising a worker's error)."""
    if not jobs:
        return []
    if can_fork():
        return [_fork(fn, args) for args in jobs]
    pool = ProcessPoolExecutor(max_workers=max(1, len(jobs)), mp_context=get_context("spawn"))
    futures = [pool.submit(fn, *args) for args in jobs]
    pool.shutdown(wait=False)  # the futures still complete; the pool ends with the last one
    return [f.result for f in futures]


def _fork(fn: Callable[..., Any], args: tuple) -> Callable[[], Any]:
    """Run ``fn(*args)`` in a forked child; returns a function that waits for and returns the result.

    This is what multiprocessing's fork start method does, without its pool machinery, which
    costs more than a small corpus's work gains from the second process.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's exit handlers
        os.close(read)
        try:
            try:
                payload = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
                payload = pickle.dumps((False, exc if _picklable(exc) else RuntimeError(repr(exc))))
            with os.fdopen(write, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)
    os.close(write)

    def result() -> Any:
        with os.fdopen(read, "rb") as inp:
            payload = inp.read()
        # reap the child once it has exited; unmapping its memory takes a while, and the
        # payload is already here
        threading.Thread(target=os.waitpid, args=(pid, 0), daemon=True, name=_REAPER).start()
        if not payload:
            raise RuntimeError("a worker process died; run again with n_jobs=1")
        ok, value = pickle.loads(payload)
        if not ok:
            raise value
        return value

    return result


def _picklable(obj: object) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:  # noqa: BLE001
        return False
    return True
