"""Writing files and folders so that a half-written one never replaces a good one.

:func:`replacing` writes one file through a temporary file beside it; :func:`building` builds a
whole results folder beside the old one and swaps it in only when it is finished, so a folder
always holds one whole run (a killed run leaves the previous results, and its leftovers are
removed by the next run).

>>> import tempfile
>>> target = Path(tempfile.mkdtemp()) / "table.csv"
>>> with replacing(target) as tmp:
...     _ = tmp.write_text("a,b\\n", encoding="utf-8")
>>> target.read_text(encoding="utf-8")
'a,b\\n'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import E, ZhiliError

#: What a zhili results folder may hold (a folder with anything else is not replaced).
RESULTS_ENTRIES = frozenset({"manifest.json", "run.log", "tables", "model", "report.html"})
STAGING_MARK = ".zhili-"
MIN_FREE_BYTES = 16 * 2**20


@contextmanager
def replacing(path: str | Path, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); when the block succeeds the file
    is renamed over ``path`` (flushed to disk first if ``durable``), when it fails the
    temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@lru_cache(maxsize=1)
def umask() -> int:
    """The process umask, read without changing it (Linux: ``/proc/self/status``). Elsewhere it is
    read once, by a set-and-restore, at the first call (cached, so never while other threads write)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---- results folders ----

@dataclass
class Staging:
    """The folder a run is built in (``path`` has the target's name, inside a hidden work folder)."""

    target: Path
    work: Path

    @property
    def path(self) -> Path:
        return self.work / self.target.name


def _results_target(target: str | Path) -> Path:
    target = Path(target)
    return target.resolve() if target.is_symlink() else Path(os.path.abspath(target))


def check_target(target: str | Path, sources: Iterable[str | Path] = ()) -> None:
    """Refuse, before any analysis, a results folder that cannot become one: a file (E123), a folder
    that is not ours (E127), a parent that is read-only (E123) or a disk with less free space than
    the run will need (E124: 16 MB plus three times the size of the sources)."""
    target = _results_target(target)
    if target.is_dir():
        foreign = sorted(p.name for p in target.iterdir() if p.name not in RESULTS_ENTRIES)
        if foreign and not (target / "manifest.json").is_file():
            raise ZhiliError(E.E127, path=target, example=", ".join(foreign[:3]))
    parent = check_output_folder(target)
    need = MIN_FREE_BYTES + 3 * _size_of(sources)
    free = shutil.disk_usage(parent).free
    if free < need:
        raise ZhiliError(E.E124, path=target, free_mb=free // 2**20, need_mb=-(-need // 2**20))


def _check_parent(target: Path, code: str) -> Path:
    """The nearest existing ancestor of ``target``: a writable folder, else error ``code``
    (E123 for a results folder, E128 for one output file)."""
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ZhiliError(code, path=target, detail=f"'{parent}' is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ZhiliError(code, path=target, detail=f"'{parent}' is read-only")
    return parent


def check_output_folder(target: str | Path) -> Path:
    """Refuse, before any work, a folder that files are written into (``zhili ingest --out``, and
    :func:`check_target` for ``zhili run``) when it is a file or cannot be created or written (E123);
    returns its nearest existing ancestor."""
    target = _results_target(target)
    if target.exists() and not target.is_dir():
        raise ZhiliError(E.E123, path=target, detail="it is a file, not a folder")
    parent = _check_parent(target, E.E123)
    if target.is_dir() and not os.access(target, os.W_OK | os.X_OK):
        raise ZhiliError(E.E123, path=target, detail=f"'{target}' is read-only")
    return parent


def check_output_file(path: str | Path) -> None:
    """Refuse, before any work, an output file (``--out`` of kwic and phrases, ``--user-dict-out``)
    that is a folder, whose folder is a file, or that cannot be written (E128)."""
    path = Path(os.path.abspath(path))
    if path.is_dir():
        raise ZhiliError(E.E128, path=path, detail="it is a folder, not a file")
    _check_parent(path, E.E128)  # the file itself is replaced through a temporary file beside it


def _size_of(sources: Iterable[str | Path]) -> int:
    total = 0
    for src in sources:
        p = Path(src)
        try:
            if p.is_file():
                total += p.stat().st_size
            elif p.is_dir():
                total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        except OSError:
            continue  # ingest reports what cannot be read
    return total


@contextmanager
def building(target: str | Path) -> Iterator[Staging]:
    """Build a results folder beside ``target`` and swap it in when the block succeeds.

    When the block fails, the new folder is discarded and ``target`` stays as it was — except that
    a ``target`` holding no finished run (no ``manifest.json``) receives the failed run's
    ``run.log``, so the reasons are on disk. Leftovers of runs killed earlier are removed first
    (a previous folder caught between two renames is put back).

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "results"
    >>> with building(out) as st:
    ...     _ = (st.path / "run.log").write_text("", encoding="utf-8")
    >>> sorted(p.name for p in out.iterdir()), sorted(p.name for p in out.parent.iterdir())
    (['run.log'], ['results'])
    """
    target = _results_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    work = target.parent / f".{target.name}{STAGING_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    staging = Staging(target, work)
    try:
        staging.path.mkdir(parents=True)
    except OSError as exc:
        raise _write_error(target, exc) from None
    try:
        yield staging
    except BaseException:
        if (staging.path / "run.log").is_file() and not (target / "manifest.json").is_file():
            for extra in [p for p in staging.path.iterdir() if p.name != "run.log"]:
                _remove(extra)
            try:
                _swap_in(staging)
            except OSError:
                pass  # the original error is the one to report
        _remove(work)
        raise
    try:
        _swap_in(staging)
    except OSError as exc:
        _remove(work)
        raise _write_error(target, exc) from None
    _remove(work)


def _write_error(target: Path, exc: OSError) -> ZhiliError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ZhiliError(E.E124, path=target, free_mb=shutil.disk_usage(target.parent).free // 2**20, need_mb="more")
    return ZhiliError(E.E123, path=target, detail=exc.strerror or str(exc))


def _swap_in(staging: Staging) -> None:
    """Put the finished folder at ``target``: one atomic exchange where the system has it (Linux
    ``renameat2``), else two renames (a kill between them is repaired by :func:`clean_leftovers`)."""
    new, target = staging.path, staging.target
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        return
    os.rename(target, staging.work / "previous")
    os.rename(new, target)


def _exchange(a: Path, b: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    libc = _libc()
    if libc is None or not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV):  # old kernel or filesystem
        return False
    raise OSError(err, os.strerror(err), str(b))


@lru_cache(maxsize=1)
def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def clean_leftovers(target: str | Path) -> list[Path]:
    """Remove the work folders of killed runs into ``target`` (whose process is gone); put back a
    previous results folder left between two renames. Returns what was removed."""
    target = _results_target(target)
    removed = []
    for work in target.parent.glob(f".{target.name}{STAGING_MARK}*"):
        pid = work.name[len(f".{target.name}{STAGING_MARK}"):].split("-")[0]
        if not work.is_dir() or (pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid))):
            continue
        previous = work / "previous"
        if previous.is_dir() and not target.exists():
            os.rename(previous, target)
        _remove(work)
        removed.append(work)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=_force)
    else:
        path.unlink(missing_ok=True)


def _force(func, path, _exc) -> None:
    try:
        os.chmod(path, stat.S_IRWXU)
        func(path)
    except OSError:
        pass


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(folder: str | Path, exclude: Iterable[str] = ()) -> dict[str, dict]:
    """``{relative path: {"bytes": n, "sha256": hex}}`` of every file under ``folder``.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_text("x", encoding="utf-8")
    >>> file_digests(d)["a.txt"]["bytes"]
    1
    """
    folder, exclude = Path(folder), set(exclude)
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel in exclude:
            continue
        out[rel] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    return out
