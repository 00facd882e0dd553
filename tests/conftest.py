"""Shared fixtures: the seed text and the optional shared data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED_DATA = Path(os.environ.get("ZHILI_SHARED_DATA", REPO.parent / "shared" / "data"))


def _need_shared(sub: str = "") -> Path:
    path = SHARED_DATA / sub
    if not path.exists():
        msg = f"shared data not found at {path} (set ZHILI_SHARED_DATA or place ../shared/data beside the checkout)"
        if os.environ.get("ZHILI_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(msg + "; ZHILI_REQUIRE_SHARED_DATA=1 requires it")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def shared_data():
    """Return a function ``need(subfolder) -> Path`` that skips (or fails under CI) when absent."""
    return _need_shared


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return next(SEEDS.glob("*.txt"))


@pytest.fixture(scope="session")
def seed_text(seed_path: Path) -> str:
    return seed_path.read_text(encoding="utf-8")


@pytest.fixture
def thread_running_and_no_fork(monkeypatch):
    """Another thread runs (as in a Jupyter kernel), and forking this process fails the test."""
    import sys
    import threading

    def no_fork(*args):
        raise AssertionError("forked a process with threads")

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    monkeypatch.setattr(sys.modules["zhili.parallel"], "_fork", no_fork)
    yield
    monkeypatch.undo()
    stop.set()
    other.join()
