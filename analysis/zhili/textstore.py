"""Texts kept on disk and read back by position, so a corpus' memory does not grow with its text.

A :class:`TextStore` is one append-only file of UTF-8 texts plus their end offsets; a
:class:`~zhili.corpus.Corpus` whose texts were spilled (:meth:`zhili.corpus.Corpus.spill`, or
``zhili.corpus(..., spill=True)``) holds only its variables and a store. Reads go through
``os.pread`` (the page cache, not the process, holds what was read), in blocks for runs of
consecutive texts. The file is deleted when the last store object using it is collected, or at exit.

>>> store = TextStore()
>>> store.extend(["网格化", "矛盾纠纷"])
>>> len(store), store[1], store[0:2]
(2, '矛盾纠纷', ['网格化', '矛盾纠纷'])
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import threading
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

#: Bytes read at once when texts are taken in order.
READ_BLOCK = 8 << 20


class TextStore(Sequence[str]):
    """An append-only sequence of texts in a temporary file in ``folder`` (default: the system's
    temporary folder; pass a folder on a disk with room for the corpus)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        try:
            if folder is not None:
                Path(folder).mkdir(parents=True, exist_ok=True)
            remove_stale_stores(folder)
            fd, path = tempfile.mkstemp(prefix=f"{_prefix()}{os.getpid()}-", suffix=".utf8", dir=folder)
        except OSError as exc:
            raise temp_write_error(folder, exc) from None
        self.path = Path(path)
        self.folder = folder  #: where stores made from this one go (Corpus.reshape)
        self._fd = fd
        self._ends = array("q")
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._written = 0  # bytes in the file; the pending texts follow
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_and_remove, fd, path)

    def __getstate__(self) -> dict:  # a worker process reads the same file by its path
        self.flush()
        return {"path": str(self.path), "ends": self._ends, "folder": self.folder}

    def __setstate__(self, state: dict) -> None:
        self.path = Path(state["path"])
        self.folder = state.get("folder")
        try:
            self._fd = os.open(state["path"], os.O_RDONLY | getattr(os, "O_BINARY", 0))  # Windows: no text mode
        except FileNotFoundError:
            from .errors import E, ZhiliError

            raise ZhiliError(E.E134, path=state["path"]) from None
        self._ends = state["ends"]
        self._pending, self._pending_size = [], 0
        self._written = self._ends[-1] if self._ends else 0
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, os.close, self._fd)

    def append(self, text: str) -> int:
        """Add ``text``; returns its position."""
        data = text.encode("utf-8", "surrogatepass")
        self._pending.append(data)
        self._pending_size += len(data)
        self._ends.append((self._ends[-1] if self._ends else 0) + len(data))
        if self._pending_size >= READ_BLOCK:
            self.flush()
        return len(self._ends) - 1

    def extend(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.append(text)

    def flush(self) -> None:
        if not self._pending:
            return
        with self._lock:  # threads reading a fresh store must not write its pending texts twice
            if not self._pending:
                return
            n = len(self._pending)  # texts appended meanwhile (another thread) wait for the next flush
            data = b"".join(self._pending[:n])
            try:
                view, at = memoryview(data), self._written
                while view:
                    k = _positional("pwrite", self._fd, view, at)
                    view, at = view[k:], at + k
            except OSError as exc:
                raise temp_write_error(self.path.parent, exc) from None
            self._written += len(data)
            del self._pending[:n]
            self._pending_size -= len(data)

    def __len__(self) -> int:
        return len(self._ends)

    def _span(self, i: int) -> tuple[int, int]:
        return (self._ends[i - 1] if i else 0), self._ends[i]

    def _read(self, start: int, end: int) -> bytes:
        self.flush()
        chunks, at = [], start
        while at < end:
            chunk = _positional("pread", self._fd, end - at, at)
            if not chunk:
                raise OSError(f"{self.path} is shorter than its texts (was it deleted?)")
            chunks.append(chunk)
            at += len(chunk)
        return b"".join(chunks)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return list(self.take(range(*i.indices(len(self)))))
        n = len(self)
        if not -n <= i < n:
            raise IndexError(i)
        a, b = self._span(i % n)
        return self._read(a, b).decode("utf-8", "surrogatepass")

    def take(self, positions: Iterable[int]) -> Iterator[str]:
        """The texts at ``positions``, in that order; runs of consecutive positions are read in blocks."""
        ends = self._ends
        run: list[int] = []
        size = 0
        for p in positions:
            p = int(p)
            if run and (p != run[-1] + 1 or size >= READ_BLOCK):
                yield from self._read_run(run)
                run, size = [], 0
            run.append(p)
            size += ends[p] - (ends[p - 1] if p else 0)
        if run:
            yield from self._read_run(run)

    def _read_run(self, run: list[int]) -> Iterator[str]:
        start = self._span(run[0])[0]
        data = self._read(start, self._ends[run[-1]])
        for p in run:
            a, b = self._span(p)
            yield data[a - start:b - start].decode("utf-8", "surrogatepass")


def valid_ends(ends: np.ndarray, total: int) -> bool:
    """Whether ``ends`` are the end offsets of consecutive pieces of ``total`` units (bytes,
    non-zeros …): a flat int64 array, never decreasing, from 0 up to ``total`` exactly.

    >>> valid_ends(np.array([2, 2, 5]), 5), valid_ends(np.array([3, 2]), 2), valid_ends(np.empty(0, np.int64), 0)
    (True, False, True)
    """
    ends = np.asarray(ends)
    if ends.dtype != np.int64 or ends.ndim != 1:
        return False
    if not len(ends):
        return total == 0
    return bool(ends[0] >= 0 and ends[-1] == total and not (np.diff(ends) < 0).any())


def save_store(texts: Iterable[str], path: Path) -> None:
    """Write ``texts`` to ``path`` (UTF-8, one after the other) and their end offsets and SHA-256
    to ``path`` + ``.npz``, for :func:`open_store` (the step cache of a spilled ingest)."""
    from .files import replacing

    digest, ends, total = hashlib.sha256(), array("q"), 0
    with replacing(path, durable=False) as tmp, open(tmp, "wb") as fh:
        for text in texts:
            data = text.encode("utf-8", "surrogatepass")
            fh.write(data)
            digest.update(data)
            total += len(data)
            ends.append(total)
    with replacing(path.with_name(path.name + ".npz"), durable=False) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, ends=np.frombuffer(ends, dtype=np.int64) if len(ends) else np.empty(0, np.int64),
                 sha256=np.frombuffer(digest.digest(), dtype=np.uint8))


def open_store(path: Path, n_texts: int) -> TextStore | None:
    """The texts :func:`save_store` wrote, read in place (the file is not removed with the store),
    or None when they are missing, not ``n_texts`` texts, or not what was written (SHA-256)."""
    from .files import file_sha256

    try:
        with np.load(path.with_name(path.name + ".npz"), allow_pickle=False) as npz:
            ends, recorded = npz["ends"], npz["sha256"]
        if len(ends) != n_texts or not valid_ends(ends, path.stat().st_size):
            return None
        if file_sha256(path) != recorded.tobytes().hex():
            return None
        store = TextStore.__new__(TextStore)
        store.__setstate__({"path": str(path), "ends": array("q", ends.tolist()), "folder": None})
        return store
    except Exception:  # noqa: BLE001 - absent, corrupt or planted: read the sources again
        return None


def _prefix() -> str:
    """``zhili-texts-<host>-``: a store's file name says which machine and process made it."""
    return f"zhili-texts-{re.sub(r'[^A-Za-z0-9.]', '_', socket.gethostname())[:40]}-"


def remove_stale_stores(folder: str | Path | None = None) -> list[Path]:
    """Remove the store files in ``folder`` (default: the temporary folder) left by processes of
    this machine that are gone (killed with SIGKILL or by the out-of-memory killer, which leave no
    chance to clean up); returns them. POSIX only (elsewhere there is no safe test of a process).

    >>> remove_stale_stores(tempfile.mkdtemp())
    []
    """
    if os.name != "posix":
        return []
    removed = []
    for path in Path(folder if folder is not None else tempfile.gettempdir()).glob(f"{_prefix()}*-*.utf8"):
        pid = path.name[len(_prefix()):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:  # no such process: the file is nobody's
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
        except OSError:  # alive (another user's): leave it
            pass
    return removed


_SEEK_LOCK = threading.Lock()


def _positional(name: str, fd: int, arg: int | memoryview, at: int):
    """``os.pread(fd, n, at)`` or ``os.pwrite(fd, data, at)`` (``name``) where the system has them
    (not Windows: there a seek, then a read or write, under a lock)."""
    call = getattr(os, name, None)
    if call is not None:
        return call(fd, arg, at)
    with _SEEK_LOCK:
        os.lseek(fd, at, os.SEEK_SET)
        return os.read(fd, arg) if name == "pread" else os.write(fd, arg)


def temp_write_error(folder: str | Path | None, exc: OSError) -> Exception:
    """E133 for a temporary file that cannot be made or written (a full disk, a read-only folder)."""
    from .errors import E, ZhiliError

    return ZhiliError(E.E133, folder=folder if folder is not None else tempfile.gettempdir(),
                      detail=exc.strerror or str(exc))


def _close_and_remove(fd: int, path: str) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
    try:
        os.unlink(path)
    except OSError:
        pass


class LazyTexts(Sequence[str]):
    """Texts of a stored corpus as a read-only sequence (``len``, index, slice), read when asked."""

    def __init__(self, store: TextStore, rows: Sequence[Sequence[int]] | np.ndarray, joiner: str | None = None) -> None:
        self.store, self.rows, self.joiner = store, rows, joiner

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return list(self._texts(self.rows[i]))
        n = len(self)
        if not -n <= i < n:
            raise IndexError(i)
        return next(self._texts([self.rows[i % n]]))

    def __iter__(self) -> Iterator[str]:
        return self._texts(self.rows)

    def _texts(self, rows) -> Iterator[str]:
        if self.joiner is None:
            return self.store.take(rows)
        return (self.joiner.join(self.store.take(r)) for r in rows)


class StoredShards(Sequence[list[str]]):
    """Shards of a stored corpus (``bounds``: row ranges into ``refs``), each read when taken;
    a slice is another lazy ``StoredShards`` (cheap to hand to a worker process)."""

    def __init__(self, store: TextStore, refs: np.ndarray, bounds: Sequence[tuple[int, int]]) -> None:
        self.store, self.refs, self.bounds = store, refs, list(bounds)

    def __len__(self) -> int:
        return len(self.bounds)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return StoredShards(self.store, self.refs, self.bounds[i])
        a, b = self.bounds[i]
        return list(self.store.take(self.refs[a:b]))
