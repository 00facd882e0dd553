"""The run manifest: what produced a results folder, so it can be reproduced.

>>> m = new_manifest("zhili run", {"unit": "document"})
>>> sorted(m)[:4]
['command', 'counts', 'created', 'inputs']
>>> "jieba" in m["libraries"]
True
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .files import replacing

LIBRARIES = ("zhili", "jieba", "rjieba", "opencc", "numpy", "scipy", "pandas", "scikit-learn", "pyarrow",
             "openpyxl", "matplotlib", "networkx")


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """Installed versions of the libraries that shape results ('not installed' otherwise)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def zhili_version() -> str:
    """zhili's version, read in this one place (``0+unknown`` in a source tree that is not installed)."""
    try:
        return version("zhili")
    except PackageNotFoundError:
        return "0+unknown"


def new_manifest(command: str, settings: dict) -> dict:
    return {
        "zhili_version": zhili_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "settings": settings,
        "libraries": library_versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "inputs": [],
        "counts": {},
        "timings": {},
        "random_state": settings.get("random_state"),
    }


def math_threads() -> list[dict]:
    """The BLAS and OpenMP libraries loaded and their thread counts (threadpoolctl): the order of
    their sums, and so the last digits of fitted numbers, depends on them.

    >>> all(isinstance(x["num_threads"], int) for x in math_threads())
    True
    """
    from threadpoolctl import threadpool_info

    return [{"library": x.get("internal_api"), "version": x["version"] if isinstance(x.get("version"), str) else None,
             "num_threads": x.get("num_threads")}
            for x in threadpool_info() if x.get("user_api") in ("blas", "openmp")]  # not scipy's own pools


def write_json(obj: dict, path: str | Path) -> Path:
    """Write JSON atomically (temporary file, then rename), UTF-8, Chinese unescaped."""
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    return path



def command_line() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])


def _jsonable(obj: object) -> object:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return str(obj)
