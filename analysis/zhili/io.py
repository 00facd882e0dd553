"""Writing result tables: CSV for Excel users, Parquet for programs, one xlsx workbook.

Values from the input (ids, document variables, file names, passages) must never become
spreadsheet formulas. So:

* in the **workbook** every string is written as a string cell (never a formula, whatever
  its first character);
* in the **CSV** files a text cell that starts with ``= + - @``, a tab or a carriage return
  and is not a number is prefixed with ``'`` (OWASP's advice against CSV injection), so
  Excel and LibreOffice show it as text;
* **Parquet** keeps every value exactly as it is.

The workbook is written in constant memory (openpyxl's write-only mode); a table longer
than ``max_rows`` is cut there, with a note on a ``notes`` sheet pointing to its CSV and
Parquet files, which are always whole. ``doc_topics`` does not repeat the document
variables in the workbook (they are on the ``documents`` sheet, joined by ``doc_id``).

>>> csv_safe_value("=HYPERLINK(\\"http://x\\")"), csv_safe_value("-3.5"), csv_safe_value("网格化")
('\\'=HYPERLINK("http://x")', '-3.5', '网格化')
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import E, ZhiliError
from .files import replacing

__all__ = ["EXCEL_MAX_ROWS", "csv_safe", "csv_safe_value", "write_table", "write_tables", "write_workbook"]

EXCEL_MAX_ROWS = 1_048_575  # Excel's limit, less the header row
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: columns of ``doc_topics`` kept in the workbook besides the topic shares (the unit's key)
DOC_TOPICS_KEYS = ("doc_id", "unit_id", "position")


def csv_safe_value(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula.

    Numbers (``-3``, ``+1.5e3``) are left alone; so is every non-string value.

    >>> csv_safe_value("@SUM(A1)"), csv_safe_value("+86 10"), csv_safe_value(-2)
    ("'@SUM(A1)", "'+86 10", -2)
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value if value.strip() == value else "'" + value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) are neutralised by :func:`csv_safe_value`.

    >>> csv_safe(pd.DataFrame({"id": ["=1+1", "a"], "n": [1, 2]}))["id"].tolist()
    ["'=1+1", 'a']
    """
    out = df.copy(deep=False)
    changed = False
    for col in out.columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            risky = series.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES))
            if risky.any():
                out[col] = series.map(csv_safe_value)
                changed = True
    columns = [csv_safe_value(c) for c in out.columns]
    if columns != list(out.columns):
        out.columns = columns
        changed = True
    return out if changed else df


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a tidy table by suffix: ``.csv`` (UTF-8 with BOM so Excel shows Chinese, formula-like
    text neutralised), ``.parquet`` (raw values) or ``.xlsx`` (strings as string cells).
    Written to a temporary file first, then renamed.

    >>> import tempfile
    >>> p = write_table(pd.DataFrame({"id": ["=cmd|' /C calc'!A0"]}), Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_text(encoding="utf-8-sig").splitlines()[1]
    "'=cmd|' /C calc'!A0"
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".xlsx"):
        raise ZhiliError(E.E032, fmt=suffix or "(none)", path=path)
    if suffix == ".xlsx":
        return write_workbook({"table": df}, path)
    with replacing(path) as tmp:
        if suffix == ".csv":
            csv_safe(df).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        else:
            _parquet_safe(df).to_parquet(tmp, index=False)
    return path


def write_tables(tables: Mapping[str, pd.DataFrame], folder: str | Path,
                 max_rows: int = EXCEL_MAX_ROWS) -> dict[str, Path]:
    """Each table as ``NAME.csv`` and ``NAME.parquet``, and all of them as sheets of one
    workbook ``zhili-tables.xlsx``; returns ``{name: csv path, "workbook": xlsx path}``."""
    folder = Path(folder)
    written = {}
    for name, df in tables.items():
        written[name] = write_table(df, folder / f"{name}.csv")
        write_table(df, folder / f"{name}.parquet")
    written["workbook"] = write_workbook(tables, folder / "zhili-tables.xlsx", max_rows=max_rows)
    return written


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | Path,
                   max_rows: int = EXCEL_MAX_ROWS) -> Path:
    """All tables in one Excel workbook, one sheet each, in constant memory.

    Every string is a string cell (no input value becomes a formula). A table with more
    than ``max_rows`` rows is cut, and a ``notes`` sheet says so and names its CSV/Parquet.
    When a ``documents`` table is present, ``doc_topics`` keeps only its key columns and
    the topic shares.

    >>> import tempfile
    >>> from openpyxl import load_workbook
    >>> p = write_workbook({"documents": pd.DataFrame({"doc_id": ["=1+1"]})}, Path(tempfile.mkdtemp()) / "b.xlsx")
    >>> cell = load_workbook(p)["documents"]["A2"]
    >>> cell.value, cell.data_type
    ('=1+1', 's')
    """
    from openpyxl import Workbook

    path = Path(path)
    max_rows = max(1, int(max_rows))
    notes: list[tuple[str, str]] = []
    with replacing(path) as tmp:
        book = Workbook(write_only=True)
        for name, df in tables.items():
            sheet_name = name[:31]
            if name == "doc_topics" and "documents" in tables:
                df, dropped = _without_docvars(df, tables["documents"])
                if dropped:
                    notes.append((sheet_name, f"document variables ({', '.join(map(str, dropped))}) are on the "
                                              f"'documents' sheet (join on doc_id); {name}.csv/.parquet have them too"))
            if len(df) > max_rows:
                notes.append((sheet_name, f"first {max_rows:,} of {len(df):,} rows; all rows in {name}.csv and "
                                          f"{name}.parquet"))
                df = df.head(max_rows)
            sheet = book.create_sheet(sheet_name)
            sheet.append([_cell(sheet, str(c)) for c in df.columns])
            columns = [_column_values(df[c]) for c in df.columns]
            for row in zip(*columns):
                sheet.append([_cell(sheet, v) for v in row])
        if notes:
            sheet = book.create_sheet("notes")
            sheet.append([_cell(sheet, "sheet"), _cell(sheet, "note")])
            for sheet_name, note in notes:
                sheet.append([_cell(sheet, sheet_name), _cell(sheet, note)])
        if not tables:
            book.create_sheet("empty")
        book.save(tmp)
    return path


_TOPIC_SHARE = re.compile(r"topic_\d+")


def _without_docvars(doc_topics: pd.DataFrame, documents: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    docvars = set(documents.columns) - set(DOC_TOPICS_KEYS)
    dropped = [c for c in doc_topics.columns if c in docvars and not _TOPIC_SHARE.fullmatch(str(c))]
    return (doc_topics.drop(columns=dropped), dropped) if dropped else (doc_topics, [])


def _column_values(series: pd.Series) -> list:
    """Plain Python values of a column (NA as None), converted once per column."""
    if pd.api.types.is_bool_dtype(series.dtype) and not series.hasnans:
        return series.astype(bool).tolist()
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_float_dtype(series.dtype):
        values = series.astype(object).where(series.notna(), None).tolist()
        return [_number(v) for v in values]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.to_pydatetime().replace(tzinfo=None) for v in series]
    return [None if _is_missing(v) else v for v in series.tolist()]


def _number(v: object) -> object:
    if v is None:
        return None
    if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else ("inf" if v > 0 else "-inf") if not math.isnan(v) else None


def _is_missing(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def _cell(sheet, value: object):
    """A write-only cell; text is always a string cell, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, (bool, np.bool_)):
        return WriteOnlyCell(sheet, value=bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return WriteOnlyCell(sheet, value=_number(value))
    if value is None or isinstance(value, (dt.datetime, dt.date)):
        return WriteOnlyCell(sheet, value=value)
    if isinstance(value, pd.Timestamp):
        return WriteOnlyCell(sheet, value=value.to_pydatetime().replace(tzinfo=None))
    text = _excel_text(str(value))
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def _excel_text(text: str) -> str:
    """Text Excel can store: control characters it refuses are dropped, and at most 32,767 characters."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)[:32767]


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns that mix types (e.g. ids that look numeric) become strings for Arrow."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(type).nunique() > 1:
            out[col] = out[col].map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out
