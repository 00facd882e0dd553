import pytest

from zhili.files import replacing


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "tables" / "terms.csv"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("crash mid-write")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in target.parent.iterdir()] == ["terms.csv"]


@pytest.mark.parametrize("durable", [True, False])
def test_success_replaces_and_keeps_the_suffix(tmp_path, durable):
    target = tmp_path / "new" / "book.xlsx"
    with replacing(target, durable=durable) as tmp:
        assert tmp.suffix == ".xlsx" and tmp.parent == target.parent
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x" and len(list(target.parent.iterdir())) == 1


def test_umask_is_read_without_changing_it(monkeypatch, tmp_path):
    import os
    import sys

    from zhili import files

    if not sys.platform.startswith("linux"):
        pytest.skip("/proc/self/status is Linux's")
    files.umask.cache_clear()
    monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("os.umask flips the process umask"))
    with replacing(tmp_path / "a.txt") as tmp:
        tmp.write_text("x", encoding="utf-8")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~files.umask()


def test_building_discards_a_failed_folder_and_keeps_the_old_one(tmp_path):
    from zhili.files import building

    out = tmp_path / "out"
    with building(out) as st:
        (st.path / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(RuntimeError), building(out) as st:
        (st.path / "manifest.json").write_text("new", encoding="utf-8")
        raise RuntimeError("killed")
    assert (out / "manifest.json").read_text(encoding="utf-8") == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_building_swaps_a_whole_folder(tmp_path):
    from zhili.files import building

    out = tmp_path / "out"
    with building(out) as st:
        (st.path / "old.csv").write_text("1", encoding="utf-8")
    with building(out) as st:
        assert st.path.name == "out" and st.path.parent.parent == tmp_path
        (st.path / "new.csv").write_text("2", encoding="utf-8")
    assert [p.name for p in out.iterdir()] == ["new.csv"] and [p.name for p in tmp_path.iterdir()] == ["out"]
