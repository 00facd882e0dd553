import csv

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from zhili.io import FORMULA_PREFIXES, csv_safe_value, write_table, write_tables, write_workbook

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]


def _tables():
    docs = pd.DataFrame({"doc_id": HOSTILE, "source": [f"{h}.txt" for h in HOSTILE],
                         "city": ["=南通", "苏州", "-", "+", "@", "广州"], "year": pd.array([2019, None, 2020, 2021, 2022, 2023], "Int64"),
                         "n": [1.5, -2.0, np.nan, 3.0, 4.0, 5.0]})
    doc_topics = docs[["doc_id", "city", "year"]].assign(topic_0=0.25, topic_1=0.75)
    return {"documents": docs, "doc_topics": doc_topics,
            "terms": pd.DataFrame({"term": ["=网格", "-治理"], "count": [3, -4]})}


def _formula_cells(path):
    book = load_workbook(path)
    return [(ws.title, c.coordinate) for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]


def _unneutralised(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        cells = [v for row in csv.reader(fh) for v in row]
    def number(v):
        try:
            float(v)
            return v.strip() == v
        except ValueError:
            return False
    return [v for v in cells if v.startswith(FORMULA_PREFIXES) and not number(v)]


def test_hostile_ids_and_docvars_make_no_formula_cells(tmp_path):
    written = write_tables(_tables(), tmp_path)
    assert _formula_cells(written["workbook"]) == []
    for name in ("documents", "doc_topics", "terms"):
        assert _unneutralised(tmp_path / f"{name}.csv") == []
    raw = pd.read_parquet(tmp_path / "documents.parquet")
    assert raw["doc_id"].tolist() == HOSTILE  # Parquet keeps raw values
    first = load_workbook(written["workbook"])["documents"]["A2"]
    assert (first.value, first.data_type) == (HOSTILE[0], "s")


@pytest.mark.parametrize("value, expected", [("=1+1", "'=1+1"), ("-3", "-3"), ("+1.5e3", "+1.5e3"), ("-", "'-"),
                                             ("@x", "'@x"), ("\t1", "'\t1"), ("网格", "网格"), (5, 5), (None, None)])
def test_csv_safe_value(value, expected):
    assert csv_safe_value(value) == expected


def test_workbook_keeps_numbers_and_missing_values(tmp_path):
    path = write_workbook(_tables(), tmp_path / "b.xlsx")
    ws = load_workbook(path)["documents"]
    header = [c.value for c in ws[1]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert header == ["doc_id", "source", "city", "year", "n"]
    assert [r[3] for r in rows] == [2019, None, 2020, 2021, 2022, 2023]
    assert [r[4] for r in rows] == [1.5, -2.0, None, 3.0, 4.0, 5.0]


def test_workbook_doc_topics_do_not_repeat_docvars(tmp_path):
    book = load_workbook(write_workbook(_tables(), tmp_path / "b.xlsx"))
    assert [c.value for c in book["doc_topics"][1]] == ["doc_id", "topic_0", "topic_1"]
    assert "doc_topics" in [c.value for c in book["notes"]["A"]]


def test_user_column_topic_1_original_is_not_kept_among_topic_shares_regression(tmp_path):
    documents = pd.DataFrame({"doc_id": ["a", "b"], "source": ["x", "y"], "topic_1_original": ["甲", "乙"]})
    doc_topics = pd.DataFrame({"doc_id": ["a", "b"], "topic_1_original": ["甲", "乙"],
                               "topic_0": [0.5, 0.2], "topic_1": [0.5, 0.8]})
    book = load_workbook(write_workbook({"documents": documents, "doc_topics": doc_topics}, tmp_path / "b.xlsx"))
    assert [c.value for c in book["doc_topics"][1]] == ["doc_id", "topic_0", "topic_1"]


def test_workbook_sheet_cap_leaves_a_note(tmp_path):
    big = pd.DataFrame({"term": [f"词{i}" for i in range(50)], "count": range(50)})
    book = load_workbook(write_workbook({"terms": big}, tmp_path / "b.xlsx", max_rows=10))
    assert book["terms"].max_row == 11
    note = book["notes"]["B2"].value
    assert "10" in note and "50" in note and "terms.csv" in note


def test_write_table_xlsx_and_illegal_characters(tmp_path):
    path = write_table(pd.DataFrame({"text": ["a\x01b", "=x"]}), tmp_path / "t.xlsx")
    ws = load_workbook(path).active
    assert [c.value for c in ws["A"]] == ["text", "ab", "=x"] and _formula_cells(path) == []


def test_run_with_hostile_ids_has_no_formula_cells(tmp_path):
    from zhili.pipeline import RunSettings, run

    src = tmp_path / "docs.csv"
    pd.DataFrame({"id": ["=HYPERLINK(\"x\")", "+a", "@b", "-c"], "city": ["=1+1", "+x", "@y", "-z"],
                  "text": ["推进市域社会治理现代化，加强网格化管理。"] * 4}).to_csv(src, index=False)
    res = run(RunSettings(sources=[str(src)], out=str(tmp_path / "out"), report=False, cache=False))
    tables = res.out / "tables"
    assert _formula_cells(tables / "zhili-tables.xlsx") == []
    assert all(_unneutralised(p) == [] for p in tables.glob("*.csv"))


@pytest.mark.parametrize("missing", [None, pd.NA, np.nan, pd.NaT])
@pytest.mark.parametrize("present", [["江苏", "南通"], ["江苏", 3]])
def test_missing_docvars_are_not_written_as_na_text_regression(tmp_path, missing, present):
    import pyarrow.parquet as pq

    province = pd.Series([present[0], missing, present[1]], dtype=object)
    docs = pd.DataFrame({"doc_id": ["a", "b", "c"], "province": province})
    write_tables({"documents": docs}, tmp_path)
    expected = [present[0], None, str(present[1])]
    assert pq.read_table(tmp_path / "documents.parquet").column("province").to_pylist() == expected
    raw = (tmp_path / "documents.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(tmp_path / "documents.csv", encoding="utf-8-sig", newline="") as fh:
        assert [row[1] for row in csv.reader(fh)] == ["province", present[0], "", str(present[1])]


def test_run_writes_missing_docvars_as_nulls_regression(tmp_path):
    import json

    import pyarrow.parquet as pq

    from zhili.pipeline import RunSettings, run

    src = tmp_path / "reports.jsonl"
    rows = [{"id": "national", "text": "推进市域社会治理现代化，加强网格化管理。", "year": 2020},
            {"id": "jiangsu", "text": "深化放管服改革，优化营商环境。", "year": 2021, "province": "江苏", "city": "南京"},
            {"id": "zhejiang", "text": "推进数字政府建设，加强基层治理。", "year": 2021, "province": "浙江"}]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    res = run(RunSettings(sources=[str(src)], out=str(tmp_path / "out"), report=False, cache=False))
    tables = res.out / "tables"
    documents = pq.read_table(tables / "documents.parquet").to_pydict()
    assert documents["province"] == [None, "江苏", "浙江"] and documents["city"] == [None, "南京", None]
    for path in tables.glob("*.parquet"):
        cells = {v for column in pq.read_table(path).to_pydict().values() for v in column if isinstance(v, str)}
        assert not cells & {"<NA>", "nan", "None", "NaT"}, path.name
    for path in tables.glob("*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            cells = {v for row in csv.reader(fh) for v in row}
        assert not cells & {"<NA>", "nan", "None", "NaT"}, path.name
    with open(tables / "documents.csv", encoding="utf-8-sig", newline="") as fh:
        assert [r["city"] for r in csv.DictReader(fh)] == ["", "南京", ""]


def test_workbook_round_trips_awkward_values(tmp_path):
    import datetime as dt

    text = ["{r}", "a{{b}}", "<b>&amp;\"x\"", "控\x01制\x00", "=SUM(A1)", " 前后空格 ", "x" * 40000, "孤"]
    frame = pd.DataFrame({f"c{j}": range(len(text)) for j in range(27)})
    frame["text"] = text
    frame["when"] = [dt.datetime(2019, 5, 1, 8, 30), None, dt.date(2020, 1, 2), pd.Timestamp("2021-03-04"),
                     None, None, None, None]
    frame["flag"] = [True, False, None, True, False, True, False, True]
    frame["x"] = [1.5, float("nan"), float("inf"), -0.25, 1e-12, 3.0, None, 7]
    book = load_workbook(write_workbook({"t": frame}, tmp_path / "b.xlsx"))
    ws = book["t"]
    header = [c.value for c in ws[1]]
    assert header[26] == "c26" and ws.cell(1, 27).column_letter == "AA"
    got = {name: [ws.cell(r, header.index(name) + 1) for r in range(2, len(text) + 2)]
           for name in ("text", "when", "flag", "x")}
    assert [c.value for c in got["text"]] == ["{r}", "a{{b}}", "<b>&amp;\"x\"", "控制", "=SUM(A1)", " 前后空格 ",
                                             "x" * 32767, "孤"]
    assert {c.data_type for c in got["text"]} == {"s"}
    assert [c.value for c in got["when"]][:4] == [dt.datetime(2019, 5, 1, 8, 30), None, dt.datetime(2020, 1, 2),
                                                 dt.datetime(2021, 3, 4)]
    assert [c.value for c in got["flag"]][:3] == [True, False, None]
    assert [c.value for c in got["x"]] == [1.5, None, "inf", -0.25, 1e-12, 3, None, 7]
    assert pd.read_excel(tmp_path / "b.xlsx", sheet_name="t")["c3"].tolist() == list(range(len(text)))


def test_table_cache_copies_the_bytes_of_unchanged_tables_only(tmp_path):
    import zipfile

    from zhili.io import TableCache

    tables = _tables()
    plain = write_tables(tables, tmp_path / "plain")
    first = TableCache(tmp_path / "cache")
    write_tables(tables, tmp_path / "a", cache=first)
    assert first.reused == []
    changed = {**tables, "terms": tables["terms"].assign(count=[3, 5])}
    second = TableCache(tmp_path / "cache")
    written = write_tables(changed, tmp_path / "b", cache=second)
    assert second.reused == ["documents", "doc_topics"]
    for name in ("documents", "doc_topics"):
        for suffix in (".csv", ".parquet"):
            assert (tmp_path / "b" / f"{name}{suffix}").read_bytes() == plain[name].with_suffix(suffix).read_bytes()
    assert pd.read_parquet(tmp_path / "b" / "terms.parquet")["count"].tolist() == [3, 5]
    with zipfile.ZipFile(plain["workbook"]) as a, zipfile.ZipFile(written["workbook"]) as b:
        assert a.read("xl/worksheets/sheet1.xml") == b.read("xl/worksheets/sheet1.xml")  # documents
        assert a.read("xl/worksheets/sheet3.xml") != b.read("xl/worksheets/sheet3.xml")  # terms
    assert _formula_cells(written["workbook"]) == []


@pytest.mark.parametrize("kind", ["csv", "parquet", "sheet.xml"])
@pytest.mark.parametrize("damage", [lambda b: b[:-7], lambda b: b.replace("苏州".encode(), "杭州".encode()),
                                    lambda b: b"", None], ids=["truncated", "altered", "emptied", "removed"])
def test_damaged_table_cache_entry_is_rebuilt_not_copied_regression(tmp_path, kind, damage):
    import zipfile

    from zhili.io import TableCache, table_digest

    tables = {"documents": pd.DataFrame({"doc_id": ["a", "b"], "city": ["南通", "苏州"], "year": [2019, 2020]})}
    plain = write_tables(tables, tmp_path / "plain")
    write_tables(tables, tmp_path / "a", cache=TableCache(tmp_path / "cache"))
    cache = TableCache(tmp_path / "cache")
    entry = cache.path(table_digest(tables["documents"]), kind)
    good = entry.read_bytes()
    if damage is None:  # an entry without its recorded SHA-256 is not trusted either
        cache.path(table_digest(tables["documents"]), f"{kind}.sha256").unlink()
    else:
        entry.write_bytes(damage(good))
        assert entry.read_bytes() != good
    written = write_tables(tables, tmp_path / "b", cache=cache)
    assert cache.reused == ([] if kind in ("csv", "parquet") else ["documents"])
    for suffix in (".csv", ".parquet"):
        assert (tmp_path / "b" / "documents").with_suffix(suffix).read_bytes() \
            == plain["documents"].with_suffix(suffix).read_bytes()
    with zipfile.ZipFile(plain["workbook"]) as a, zipfile.ZipFile(written["workbook"]) as b:
        assert a.read("xl/worksheets/sheet1.xml") == b.read("xl/worksheets/sheet1.xml")
    assert entry.read_bytes() == good  # stored again
    again = TableCache(tmp_path / "cache")
    write_tables(tables, tmp_path / "c", cache=again)
    assert again.reused == ["documents"]


def test_table_digest_sees_values_types_and_column_names():
    from zhili.io import table_digest

    base = pd.DataFrame({"id": ["a", "b"], "n": [1, 2]})
    same = pd.DataFrame({"id": ["a", "b"], "n": [1, 2]}, index=[7, 8])
    others = [base.assign(n=[1, 3]), base.rename(columns={"n": "m"}), base.assign(n=[1.0, 2.0]),
              base.assign(id=pd.Series(["a", 2], dtype=object)), base[["n", "id"]]]
    assert table_digest(base) == table_digest(same)
    assert len({table_digest(base), *map(table_digest, others)}) == 1 + len(others)


def test_table_cache_sha256_record_with_non_ascii_bytes_is_a_miss_regression(tmp_path):
    """A damaged .sha256 record (a flipped high bit, junk) raised UnicodeDecodeError on every later run."""
    import zipfile

    from zhili.io import TableCache, table_digest

    tables = {"documents": pd.DataFrame({"doc_id": ["a", "b"], "city": ["南通", "苏州"]})}
    plain = write_tables(tables, tmp_path / "plain")
    write_tables(tables, tmp_path / "a", cache=TableCache(tmp_path / "cache"))
    cache = TableCache(tmp_path / "cache")
    for kind in ("csv", "parquet", "sheet.xml"):
        record = cache.path(table_digest(tables["documents"]), f"{kind}.sha256")
        record.write_bytes(b"\xff\xfe" + record.read_bytes()[2:])
    written = write_tables(tables, tmp_path / "b", cache=cache)
    assert cache.reused == []
    for suffix in (".csv", ".parquet"):
        assert (tmp_path / "b" / f"documents{suffix}").read_bytes() == plain["documents"].with_suffix(suffix).read_bytes()
    with zipfile.ZipFile(plain["workbook"]) as a, zipfile.ZipFile(written["workbook"]) as b:
        assert a.read("xl/worksheets/sheet1.xml") == b.read("xl/worksheets/sheet1.xml")
    again = TableCache(tmp_path / "cache")
    write_tables(tables, tmp_path / "c", cache=again)
    assert again.reused == ["documents"]  # the records were written again


def test_numpy_nat_in_object_column_is_null_not_text_regression(tmp_path):
    """numpy's NaT (not pd.NaT) in an object column was written as the text 'NaT' in Parquet and the workbook."""
    import zipfile

    df = pd.DataFrame({"doc_id": ["a", "b", "c"],
                       "seen": pd.Series([np.datetime64("NaT"), "2020年", np.timedelta64("NaT")], dtype=object)})
    written = write_tables({"documents": df}, tmp_path)
    assert pd.read_parquet(tmp_path / "documents.parquet")["seen"].isna().tolist() == [True, False, True]
    with zipfile.ZipFile(written["workbook"]) as book:
        assert "NaT" not in book.read("xl/worksheets/sheet1.xml").decode()
    assert "NaT" not in (tmp_path / "documents.csv").read_text(encoding="utf-8-sig")


def test_same_tables_give_a_byte_identical_workbook_regression(tmp_path, monkeypatch):
    """The workbook's parts carried the clock's time, so a rerun's zhili-tables.xlsx (and its SHA-256 in the
    manifest) differed whenever it was written in another second."""
    import time

    tables = {"documents": pd.DataFrame({"doc_id": ["a", "b"], "city": ["南通", None]})}
    first = write_workbook(tables, tmp_path / "a.xlsx").read_bytes()
    later = time.time() + 86_400 * 400
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(time, "localtime", lambda *a: time.gmtime(later))
    assert write_workbook(tables, tmp_path / "b.xlsx").read_bytes() == first
    assert load_workbook(tmp_path / "b.xlsx")["documents"]["B2"].value == "南通"


def test_list_cells_are_written_with_the_table_cache_too_regression(tmp_path):
    """write_tables(..., cache=) failed with a ValueError/TypeError in table_digest on a column of
    lists (pandas cannot hash lists); without the cache such a table was written."""
    from zhili.io import TableCache, table_digest

    tables = {"documents": pd.DataFrame({"doc_id": ["a", "b"], "flags": [["web", "meta"], []]})}
    plain = write_tables(tables, tmp_path / "plain")
    cached = write_tables(tables, tmp_path / "cached", cache=TableCache(tmp_path / "cache"))
    for suffix in (".csv", ".parquet"):
        assert cached["documents"].with_suffix(suffix).read_bytes() == plain["documents"].with_suffix(suffix).read_bytes()
    other = pd.DataFrame({"doc_id": ["a", "b"], "flags": [["web"], []]})
    assert table_digest(other) != table_digest(tables["documents"])


def test_a_table_cache_entry_copied_under_another_key_with_its_record_is_a_miss_regression(tmp_path):
    """An entry and its .sha256 copied together from table B's key to table A's (cache syncing)
    made a run write B's content for A; the record now covers the key too."""
    import shutil

    from zhili.io import TableCache, table_digest

    a = {"documents": pd.DataFrame({"doc_id": ["x"], "city": ["南通"]})}
    b = {"documents": pd.DataFrame({"doc_id": ["x"], "city": ["苏州"]})}
    cache = TableCache(tmp_path / "cache")
    write_tables(a, tmp_path / "a", cache=cache)
    write_tables(b, tmp_path / "b", cache=cache)
    da, db = table_digest(a["documents"]), table_digest(b["documents"])
    for kind in ("csv", "parquet"):
        for suffix in ("", ".sha256"):
            shutil.copyfile(cache.path(db, kind + suffix), cache.path(da, kind + suffix))
    again = write_tables(a, tmp_path / "again", cache=TableCache(tmp_path / "cache"))
    assert pd.read_parquet(again["documents"].with_suffix(".parquet"))["city"].tolist() == ["南通"]
