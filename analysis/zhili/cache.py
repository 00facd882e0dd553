"""zhili's on-disk cache (``$ZHILI_CACHE_DIR``, else ``~/.cache/zhili``): what it holds, and clearing it.

Every entry is keyed by a hash of its input, the settings and the code that made it, so an old entry is
never wrong for a new run, only unused; removing entries costs only time (a run computes them again).
Clear the cache when no run is using it.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> _ = (root / "steps").mkdir(), (root / "steps" / f"{'ab' * 32}.parquet").write_bytes(b"x" * 10)
>>> cache_info(root)[["part", "files", "bytes"]].values.tolist()
[['steps', 1, 10]]
>>> int(clear_cache(root=root)["files"].sum()), cache_info(root).empty
(1, True)
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pandas as pd

from .errors import E, ZhiliError
from .segment import cache_root

#: What each top folder of the cache holds; the two-character folders are segmentation shards.
PARTS = {
    "tokens": "segmented shards of text (one file per shard)",
    "final": "a run's tokens and counts, whole",
    "steps": "ingested documents and the tables of reusable steps",
    "formulations": "formulations found in each text",
    "tables": "bytes of written tables (CSV, Parquet, workbook sheets)",
    "figures": "report figures",
    "dictionaries": "compiled segmentation dictionaries",
    "fonts": "the report's font files",
}


#: Every entry's path below its part's folder holds the hex digest of its key (or a temporary file's
#: name made from it), so a file of the user's in a folder named like a part (``tables/results.csv``,
#: ``figures/plot.png``, ``ab/notes.txt``) is not taken for one.
KEYED = re.compile(r"[0-9a-f]{32,}")


def _part(top: str) -> str:
    return "tokens" if len(top) == 2 and all(c in "0123456789abcdef" for c in top) else top


def _files(root: Path):
    """(part, path, stat) of every file under ``root``; a file without a key in its path is 'other'
    when it lies in a part's folder."""
    for folder, _, names in os.walk(root):
        rel = Path(folder).relative_to(root).parts
        for name in names:
            path = Path(folder) / name
            try:
                st = path.stat()
            except OSError:  # removed meanwhile
                continue
            part = _part(rel[0]) if rel else "other"
            if part in PARTS and not any(KEYED.search(p) for p in (*rel[1:], name)):
                part = "other"
            yield part, path, st


def _summary(rows: list[tuple[str, int]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["part", "bytes"])
    table = df.groupby("part", sort=False).agg(files=("bytes", "size"), bytes=("bytes", "sum")).reset_index()
    table["what"] = table["part"].map(PARTS).fillna("other files")
    order = {p: i for i, p in enumerate(PARTS)}
    table = table.sort_values("part", key=lambda s: s.map(order).fillna(len(order)), ignore_index=True)
    return table[["part", "what", "files", "bytes"]].astype({"files": "int64", "bytes": "int64"})


def _root(root: str | Path | None) -> Path:
    """The cache folder (``root``, else :func:`~zhili.segment.cache_root`); E135 when it is a file."""
    root = Path(root) if root is not None else cache_root()
    if root.exists() and not root.is_dir():
        raise ZhiliError(E.E135, detail=f"the cache path '{root}' ($ZHILI_CACHE_DIR) is not a folder")
    return root


def cache_info(root: str | Path | None = None) -> pd.DataFrame:
    """Files and bytes of each part of the cache (``part, what, files, bytes``); empty when there is
    none; E135 when the cache path is not a folder."""
    root = _root(root)
    return _summary([(part, st.st_size) for part, _, st in _files(root)] if root.is_dir() else [])


def clear_cache(older_than_days: float | None = None, root: str | Path | None = None) -> pd.DataFrame:
    """Remove the files of the cache's parts (only those written more than ``older_than_days``
    days ago, when given) and the folders left empty; returns what was removed, as
    :func:`cache_info` counts it. Files that are not zhili's (part 'other') are left."""
    root = _root(root)
    if older_than_days is not None and not (isinstance(older_than_days, (int, float)) and older_than_days >= 0):
        raise ZhiliError(E.E135, detail=f"older than must be a number of days >= 0; got {older_than_days!r}")
    if not root.is_dir():
        return _summary([])
    cutoff = None if older_than_days is None else time.time() - float(older_than_days) * 86400
    removed, emptied = [], set()
    for part, path, st in list(_files(root)):
        if part in PARTS and (cutoff is None or st.st_mtime < cutoff):
            try:
                path.unlink()
                removed.append((part, st.st_size))
            except FileNotFoundError:
                continue
            emptied.update(p for p in path.parents if root in p.parents)  # its folders up to the root's
    for folder in sorted(emptied, key=lambda p: -len(p.parts)):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass
    return _summary(removed)
