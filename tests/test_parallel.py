"""zhili.parallel: one meaning of n_jobs, workers forked or spawned, their errors reach the caller."""

import os
import sys

import pytest

from zhili.parallel import _fork, n_workers, single_threaded, start_workers


@pytest.mark.parametrize("n_jobs, expected", [(1, 1), (3, 3), (0, 1), (-1, os.cpu_count() or 1),
                                              (-2, max(1, (os.cpu_count() or 1) - 1)), (-1000, 1)])
def test_n_jobs_means_the_same_everywhere(n_jobs, expected):
    assert n_workers(n_jobs) == expected


def test_forked_worker_errors_reach_the_caller():
    with pytest.raises(ZeroDivisionError):
        _fork(lambda: 1 / 0, ())()
    with pytest.raises(RuntimeError, match="worker process died"):
        _fork(os._exit, (3,))()
    assert _fork(sum, ([1, 2],))() == 3


def test_spawned_workers_give_the_same_results(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert [f() for f in start_workers(divmod, [(7, 2), (9, 4)])] == [(3, 1), (2, 1)]
    assert start_workers(divmod, []) == []


def test_a_process_with_threads_is_not_forked(thread_running_and_no_fork):
    assert not single_threaded()
    assert [f() for f in start_workers(divmod, [(7, 2)])] == [(3, 1)]
