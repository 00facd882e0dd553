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
