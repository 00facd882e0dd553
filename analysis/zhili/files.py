"""Writing files so that a half-written one never replaces a good one.

>>> import tempfile
>>> target = Path(tempfile.mkdtemp()) / "table.csv"
>>> with replacing(target) as tmp:
...     _ = tmp.write_text("a,b\\n", encoding="utf-8")
>>> target.read_text(encoding="utf-8")
'a,b\\n'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
