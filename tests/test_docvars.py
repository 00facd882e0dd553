"""The one model of document variables (zhili.docvars) and the ingest contract on generated tables."""

from __future__ import annotations

import datetime
import json
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhili import docvars
from zhili.corpus import LOG_COLUMNS, corpus
from zhili.errors import ZhiliError


@pytest.mark.parametrize(
    ("value", "year"),
    [(2019, 2019), ("2019-05-01", 2019), ("2019年", 2019), ("二〇一九年", 2019), (datetime.date(2019, 5, 1), 2019),
     (pd.Timestamp("2020-01-31 10:00"), 2020), ("", None), (None, None), (pd.NA, None), ("未知", None),
     ("2019-2020", None), (np.float64("nan"), None)],
)
def test_to_year_reads_what_can_be_read_and_never_raises(value, year):
    assert docvars.to_year(value) == year


def test_as_years_keeps_unreadable_values_as_written():
    years, raw = docvars.as_years(pd.Series([2019, "未知", None, "2020年"], dtype=object))
    assert years.dtype == "Int64" and years.tolist() == [2019, pd.NA, pd.NA, 2020]
    assert raw.fillna("-").tolist() == ["-", "未知", "-", "-"]


def test_as_years_of_integer_column_rejects_impossible_years():
    years, raw = docvars.as_years(pd.Series([2019, 12]))
    assert years.tolist() == [2019, pd.NA] and raw.tolist()[1] == "12"


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [([1, None, 3], "Int64", [1, pd.NA, 3]), ([1.5, None], "Float64", [1.5, pd.NA]), ([2.0, 3.0], "Int64", [2, 3]),
     (["南通", None, "", "  "], "object", ["南通", pd.NA, pd.NA, pd.NA]), ([1, "一"], "object", ["1", "一"]),
     ([True, None], "boolean", [True, pd.NA]), ([[1], {"a": "甲"}], "object", ["[1]", '{"a": "甲"}']),
     ([datetime.datetime(2019, 5, 1), None], "object", ["2019-05-01", pd.NA]), ([None, None], "object", [pd.NA, pd.NA])],
)
def test_type_column(values, dtype, expected):
    typed = docvars.type_column(pd.Series(values, dtype=object))
    assert str(typed.dtype) == dtype
    assert [("NA" if v is pd.NA else v) for v in typed.tolist()] == [("NA" if v is pd.NA else v) for v in expected]


def test_group_labels_never_say_nan():
    labels = docvars.group_labels(pd.Series([2019.0, np.nan, None, "南通", pd.NA], dtype=object))
    assert labels.tolist()[0] == "2019" and labels.tolist()[3] == "南通" and labels.isna().sum() == 3
    assert docvars.group_labels(pd.Series(pd.array([2019, None], dtype="Int64"))).tolist() == ["2019", pd.NA]


def test_missing_mask_and_summary_count_documents_not_units():
    df = pd.DataFrame({"doc_id": ["a", "a", "b", "c"], "year": pd.array([None, None, 2019, None], dtype="Int64")})
    assert docvars.missing_mask(df["year"]).tolist() == [True, True, False, True]
    assert docvars.summarise_missing(df, "year", "; left out of trends") == "2 of 3 documents have no year; left out of trends"
    assert docvars.summarise_missing(df, "city") == "3 of 3 documents have no city"
    assert docvars.summarise_missing(df.iloc[2:3], "year") == ""


def test_reserved_names_get_one_documented_suffix():
    assert docvars.rename_reserved(["status", "status_original", "topic_12", "city"]) == {
        "status": "status_original2", "topic_12": "topic_12_original"}


# ---------------------------------------------------------------- the ingest contract, on generated tables

RESERVED_NAMES = ["status", "reason", "n_chars", "n_tokens", "source", "position", "script", "footer_removed",
                  "doc_id", "topic_0", "year_raw", "sheet", "text_original"]
ODD_TEXT = st.text(alphabet=st.sampled_from(list("治理市域网格南通年 \t\n\u3000\ufeff\u200b𠀀=+@-\"',{}[]") + ["\udc00"]),
                   max_size=12)
CELL = st.one_of(st.none(), st.just(""), st.integers(-5, 3000), st.floats(allow_nan=True, allow_infinity=False, width=32),
                 st.booleans(), ODD_TEXT, st.sampled_from(["未知", "2019-05-01", "2019年", "二〇一九年", "null", "nan"]))
COLUMN_NAME = st.one_of(st.sampled_from(RESERVED_NAMES + ["year", "city", "年份"]),
                        st.text(alphabet=string.ascii_lowercase + "_年份", min_size=1, max_size=6))


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 8))
    names = draw(st.lists(COLUMN_NAME, max_size=5, unique=True).filter(lambda ns: "text" not in ns and "id" not in ns))
    rows = []
    for i in range(n_rows):
        row = {"id": draw(st.one_of(st.just(f"d{i}"), st.just("dup"), st.none())),
               "text": draw(st.one_of(st.just("推进市域社会治理现代化。"), ODD_TEXT))}
        row.update({name: draw(CELL) for name in names if draw(st.booleans())})
        rows.append(row)
    broken = draw(st.sets(st.integers(0, n_rows - 1), max_size=2))
    return rows, broken, draw(st.sampled_from(["jsonl", "csv"]))


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables())
def test_every_row_is_in_docs_or_in_the_log_with_a_reason(tmp_path_factory, table):
    rows, broken, fmt = table
    path = tmp_path_factory.mktemp("t") / f"docs.{fmt}"
    if fmt == "jsonl":
        lines = ["{broken" if i in broken else json.dumps(r, ensure_ascii=True, allow_nan=False) if _finite(r) else "{bad"
                 for i, r in enumerate(rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        clean = [{k: v.replace("\udc00", "\ufffd") if isinstance(v, str) else v for k, v in r.items()} for r in rows]
        pd.DataFrame(clean, dtype=object).to_csv(path, index=False, encoding="utf-8")
    try:
        c = corpus(path)
    except ZhiliError:
        return  # a coded error (e.g. a CSV with no data) is allowed, never another exception
    table = c.document_table()
    assert table.columns[:5].tolist() == LOG_COLUMNS
    assert len(c.log) == len(rows)  # every input row accounted for
    skipped = c.log["status"] == "skipped"
    assert set(c.log["status"]) <= {"analysed", "skipped"} and c.log.loc[skipped, "reason"].str.startswith("[E").all()
    assert (~skipped).sum() == len(c.docs) and set(c.docs["doc_id"]) == set(c.log.loc[~skipped, "doc_id"])
    assert not any(col.endswith(("_x", "_y")) for col in table.columns)
    if "year" in c.docs:
        assert str(c.docs["year"].dtype) == "Int64"
    for col in c.docvars.columns:
        assert not docvars.group_labels(c.docvars[col]).isin(["nan", "None", "<NA>"]).any() or _had_literal(rows, col)
    table.to_csv(path.with_suffix(".out.csv"), encoding="utf-8")  # no lone surrogate survives
    table.to_parquet(path.with_suffix(".parquet"))


def _finite(row: dict) -> bool:
    return not any(isinstance(v, float) and not np.isfinite(v) for v in row.values())


def _had_literal(rows: list[dict], col: str) -> bool:
    """The user wrote the string 'nan' or 'None' themselves (kept as written)."""
    base = col.removesuffix("_original")
    return any(str(r.get(base, r.get(col))) in ("nan", "None") for r in rows)


def test_web_cleaning_columns_are_reserved_regression(tmp_path):
    """A user column removed_pinyin or year_from was overwritten by zhili's counts and sources."""
    import json
    import warnings

    import zhili
    from zhili.docvars import is_reserved, safe_name
    from zhili.webtext import COUNT_COLUMNS

    assert all(is_reserved(c) and not is_reserved(safe_name(c, ())) for c in (*COUNT_COLUMNS, "year_from"))
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "a", "text": "社會(shè huì)治理，推进网格化管理。", "removed_pinyin": "7", "year_from": "yf"},
        {"id": "b", "text": "加强矛盾纠纷多元化解。", "removed_pinyin": "9", "year_from": "yf2"}]), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = zhili.corpus(path).document_table()
    assert any("W100" in str(w.message) and "removed_pinyin_original" in str(w.message) for w in caught)
    assert table["removed_pinyin_original"].tolist() == ["7", "9"]
    assert table["year_from_original"].tolist() == ["yf", "yf2"]
    assert table["removed_pinyin"].tolist()[0] > 0
