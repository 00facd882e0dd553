"""The on-disk cache: what it holds, clearing it (all, or entries older than N days), from Python and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from zhili.cache import cache_info, clear_cache
from zhili.pipeline import RunSettings, run

KEY = "0123456789abcdef" * 4  # entries are named by the hex digest of their key


def _entry(root, rel, size=10, age_days=0.0):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    when = time.time() - age_days * 86400
    os.utime(path, (when, when))
    return path


def test_info_counts_each_part_and_clear_keeps_what_is_not_zhilis(tmp_path):
    _entry(tmp_path, f"ab/{KEY}.npz", 5)
    _entry(tmp_path, f"steps/ingest/{KEY}/texts.utf8", 7)
    _entry(tmp_path, f"tables/cd/{KEY}.csv", 3)
    mine = _entry(tmp_path, "notes.txt", 2)  # a file of the user's in the cache folder
    info = cache_info(tmp_path).set_index("part")
    assert info.loc["tokens", "files"] == 1 and info.loc["steps", "bytes"] == 7 and info.loc["other", "files"] == 1
    removed = clear_cache(root=tmp_path).set_index("part")
    assert removed["files"].sum() == 3 and "other" not in removed.index
    assert mine.exists() and cache_info(tmp_path)["part"].tolist() == ["other"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # emptied folders are gone


@pytest.mark.parametrize("days, left", [(30, ["new.json"]), (0, []), (1000, ["new.json", "old.json"])])
def test_clear_older_than_removes_only_entries_written_before(tmp_path, days, left):
    _entry(tmp_path, f"formulations/aa/{KEY}.old.json", age_days=90)
    _entry(tmp_path, f"formulations/aa/{KEY}.new.json", age_days=1)
    clear_cache(days, root=tmp_path)
    assert sorted(p.name.split(".")[1] + ".json" for p in tmp_path.rglob("*.json")) == left


def test_no_cache_folder_is_an_empty_table(tmp_path):
    assert cache_info(tmp_path / "none").empty and clear_cache(root=tmp_path / "none").empty


def test_a_run_after_clearing_writes_the_same_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path / "cache"))
    first = run(RunSettings(out=str(tmp_path / "a"), report=False))
    assert cache_info()["files"].sum() > 0
    clear_cache()
    assert cache_info().empty
    second = run(RunSettings(out=str(tmp_path / "b"), report=False))
    assert "reused" not in second.manifest
    for name in first.manifest["tables"]:
        for path in (tmp_path / "a" / "tables").glob(f"{name}.*"):
            if path.suffix != ".xlsx":
                assert path.read_bytes() == (tmp_path / "b" / "tables" / path.name).read_bytes(), path.name


def zhili(*args, env=None):
    return subprocess.run([sys.executable, "-m", "zhili.cli", *args], capture_output=True, text=True, env=env)


def test_cli_shows_and_clears_the_cache(tmp_path):
    env = {**os.environ, "ZHILI_CACHE_DIR": str(tmp_path)}
    _entry(tmp_path, f"figures/ab/{KEY}.png", 2_000_000, age_days=60)
    _entry(tmp_path, f"steps/x/{KEY}.parquet", 1_000_000)
    shown = zhili("cache", env=env)
    assert shown.returncode == 0 and "2 files, 3.0 MB" in shown.stdout and "figures" in shown.stdout
    cleared = zhili("cache", "--clear", "--older-than", "30", env=env)
    assert cleared.returncode == 0 and "removed 1 files, 2.0 MB" in cleared.stderr + cleared.stdout
    assert "1 files, 1.0 MB" in cleared.stdout


@pytest.mark.parametrize("args", [["--older-than", "3"], ["--clear", "--older-than", "-1"],
                                  ["--clear", "--older-than", "nan"]])
def test_cli_cache_options_that_do_not_go_together_are_a_coded_error(tmp_path, args):
    out = zhili("cache", *args, env={**os.environ, "ZHILI_CACHE_DIR": str(tmp_path)})
    assert out.returncode == 1 and "[E135]" in out.stderr and "Traceback" not in out.stderr


def test_clear_leaves_the_users_files_in_folders_named_like_parts(tmp_path):
    """ZHILI_CACHE_DIR pointed at a project folder: `zhili cache --clear` removed the user's
    figures/plot.png, tables/results.csv and ab/notes.txt (any file in a folder named like a part)
    and every empty folder of the user's; entries always carry their key's hex digest."""
    entry = _entry(tmp_path, f"tables/ab/{KEY}.csv")
    mine = [_entry(tmp_path, rel) for rel in ("figures/plot.png", "tables/results.csv", "ab/notes.txt",
                                              "steps/run1/log.txt")]
    (tmp_path / "src" / "empty").mkdir(parents=True)
    assert cache_info(tmp_path).set_index("part").loc["other", "files"] == 4
    assert clear_cache(root=tmp_path)["files"].sum() == 1 and not entry.exists()
    assert all(p.exists() for p in mine) and (tmp_path / "src" / "empty").is_dir()
    assert not (tmp_path / "tables" / "ab").exists()  # the folder it emptied is gone


@pytest.mark.parametrize("days", [-1, float("nan"), "30"])
def test_clear_cache_refuses_a_bad_age_in_python_too_regression(tmp_path, days):
    """clear_cache(-1) removed everything and clear_cache(nan) nothing, without a word (the CLI refused both)."""
    from zhili.errors import ZhiliError

    entry = _entry(tmp_path, f"steps/{'ab' * 32}.parquet")
    with pytest.raises(ZhiliError, match="E135"):
        clear_cache(days, root=tmp_path)
    assert entry.exists()


def test_a_cache_path_that_is_a_file_is_said_regression(tmp_path):
    """`zhili cache` with ZHILI_CACHE_DIR a file reported '0 files' as if all were well."""
    (tmp_path / "file").write_text("x", encoding="utf-8")
    out = zhili("cache", env={**os.environ, "ZHILI_CACHE_DIR": str(tmp_path / "file")})
    assert out.returncode == 1 and "[E135]" in out.stderr and "not a folder" in out.stderr
