"""Writing result tables: CSV for Excel users, Parquet for programs, one xlsx workbook.

Values from the input (ids, document variables, file names, passages) must never become
spreadsheet formulas. So:

* in the **workbook** every string is written as a string cell (never a formula, whatever
  its first character);
* in the **CSV** files a text cell that starts with ``= + - @``, a tab or a carriage return
  and is not a number is prefixed with ``'`` (OWASP's advice against CSV injection), so
  Excel and LibreOffice show it as text;
* **Parquet** keeps every value exactly as it is.

The workbook is streamed sheet by sheet as OOXML (inline string cells); a table longer
than ``max_rows`` is cut there, with a note on a ``notes`` sheet pointing to its CSV and
Parquet files, which are always whole. ``doc_topics`` does not repeat the document
variables in the workbook (they are on the ``documents`` sheet, joined by ``doc_id``).

With a :class:`TableCache`, a table whose content (:func:`table_digest`) was written before
by the same code and libraries has its CSV, Parquet and sheet bytes copied from the cache
instead of encoded again (a rerun with another number of topics rewrites only the tables
that depend on it).

>>> csv_safe_value("=HYPERLINK(\\"http://x\\")"), csv_safe_value("-3.5"), csv_safe_value("网格化")
('\\'=HYPERLINK("http://x")', '-3.5', '网格化')
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .errors import E, ZhiliError
from .files import file_sha256, replacing

__all__ = ["EXCEL_MAX_ROWS", "TableCache", "csv_safe", "csv_safe_value", "table_digest", "write_table", "write_tables",
           "write_workbook"]

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
            if any(isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in series.to_numpy(dtype=object)):
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
        _encode(df, suffix, tmp)
    return path


def _encode(df: pd.DataFrame, suffix: str, target: Path) -> None:
    if suffix == ".csv":
        csv_safe(df).to_csv(target, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    else:
        _parquet_safe(df).to_parquet(target, index=False)


class TableCache:
    """Written bytes of tables (CSV, Parquet, workbook sheet XML) in ``folder``, by a key of the
    table's content (:func:`table_digest`), the code of this module and the versions of pandas and
    pyarrow. ``reused`` lists the tables whose CSV and Parquet files :func:`write_tables` copied from it.

    Entries are written through a temporary file (never half-written), and the SHA-256 of their bytes
    is kept with them: an entry that no longer has it (damaged) is a miss, written again, never copied
    out. An unreadable cache only costs time.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.reused: list[str] = []

    def path(self, digest: str, kind: str) -> Path:
        """Where the ``kind`` ('csv', 'parquet', 'sheet.xml') bytes of the table with ``digest`` are kept
        (their record is the ``kind + '.sha256'`` entry: :meth:`_record`)."""
        key = hashlib.sha256(f"{_code_digest()}|{kind}|{digest}".encode()).hexdigest()
        return self.folder / key[:2] / f"{key}.{kind}"

    def verified(self, digest: str, kind: str) -> Path | None:
        """The ``kind`` entry of the table with ``digest`` when its bytes have the SHA-256 recorded when
        it was stored; ``None`` when it is absent, unreadable or damaged."""
        entry = self.path(digest, kind)
        try:
            recorded = self.path(digest, f"{kind}.sha256").read_bytes()
            return entry if self._record(entry, file_sha256(entry)) == recorded else None
        except OSError:  # absent or unreadable; a damaged record (any bytes) simply does not match
            return None

    def store(self, digest: str, kind: str, fill: Callable[[Path], None]) -> Path | None:
        """Keep what ``fill(path)`` writes as the ``kind`` entry of the table with ``digest``, with its
        SHA-256; return the entry, or ``None`` when the cache cannot be written (that only costs time)."""
        entry = self.path(digest, kind)
        try:
            with replacing(entry, durable=False) as tmp:
                fill(tmp)
                sha256 = file_sha256(tmp)
            with replacing(self.path(digest, f"{kind}.sha256"), durable=False) as tmp:
                tmp.write_bytes(self._record(entry, sha256))
        except OSError:
            return None
        return entry

    @staticmethod
    def _record(entry: Path, sha256: str) -> bytes:
        """What is recorded for an entry: the SHA-256 of its name (its key) and of its bytes' SHA-256,
        so an entry copied under another key with its record does not match there either."""
        return hashlib.sha256(f"{entry.name}|{sha256}".encode()).hexdigest().encode("ascii")

    def write(self, digest: str, kind: str, target: Path, encode: Callable[[Path], None]) -> bool:
        """Fill ``target`` with the cached bytes when intact (``True``), or with ``encode(target)`` and
        keep a copy (``False``)."""
        entry = self.verified(digest, kind)
        if entry is not None:
            try:
                shutil.copyfile(entry, target)
                return True
            except OSError:
                pass
        encode(target)
        self.store(digest, kind, functools.partial(shutil.copyfile, target))
        return False


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    import pyarrow

    return hashlib.sha256(Path(__file__).read_bytes() + f"|{pd.__version__}|{pyarrow.__version__}".encode()).hexdigest()


def table_digest(df: pd.DataFrame) -> str:
    """SHA-256 of what a written table holds: column names and types, and every value with its
    Python type where a column mixes types (the index is never written, so not hashed).

    >>> table_digest(pd.DataFrame({"a": [1]})) == table_digest(pd.DataFrame({"a": [1]}, index=[5]))
    True
    >>> table_digest(pd.DataFrame({"a": ["1", "x"]})) == table_digest(pd.DataFrame({"a": [1, "x"]}))
    False
    """
    h = hashlib.sha256(repr([(str(c), type(c).__name__, repr(t)) for c, t in df.dtypes.items()]).encode())
    h.update(f"|{len(df)}|".encode())
    for j in range(df.shape[1]):
        column = df.iloc[:, j]
        try:
            h.update(pd.util.hash_pandas_object(column, index=False, categorize=False).to_numpy().tobytes())
        except (TypeError, ValueError):  # unhashable cells (lists, dicts): their repr, as the CSV writes them
            h.update(repr(column.tolist()).encode("utf-8", "surrogatepass"))
        if column.dtype == object:  # 1 and '1' hash alike, None and NA too: their types tell them apart
            values = column.to_numpy()
            kinds = set(map(type, values))
            if len(kinds) == 1 or (len(kinds) == 2 and str in kinds
                                   and pd.api.types.infer_dtype(column, skipna=True) == "string"):
                h.update(repr(sorted(k.__name__ for k in kinds)).encode())  # text and one kind of null: placed above
            else:
                h.update(" ".join(type(v).__name__ for v in values).encode())
    return h.hexdigest()


def write_tables(tables: Mapping[str, pd.DataFrame], folder: str | Path,
                 max_rows: int = EXCEL_MAX_ROWS, cache: TableCache | None = None) -> dict[str, Path]:
    """Each table as ``NAME.csv`` and ``NAME.parquet``, and all of them as sheets of one
    workbook ``zhili-tables.xlsx``; returns ``{name: csv path, "workbook": xlsx path}``.
    With ``cache``, bytes written before for the same content are copied from it."""
    folder = Path(folder)
    written = {}
    digests = {name: table_digest(df) for name, df in tables.items()} if cache is not None else {}
    for name, df in tables.items():
        hits = []
        for suffix in (".csv", ".parquet"):
            path = folder / f"{name}{suffix}"
            with replacing(path) as tmp:
                if cache is None:
                    _encode(df, suffix, tmp)
                else:
                    hits.append(cache.write(digests[name], suffix[1:], tmp, functools.partial(_encode, df, suffix)))
            written.setdefault(name, path)
        if hits and all(hits):
            cache.reused.append(name)
    written["workbook"] = write_workbook(tables, folder / "zhili-tables.xlsx", max_rows=max_rows, cache=cache,
                                         digests=digests)
    return written


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | Path,
                   max_rows: int = EXCEL_MAX_ROWS, cache: TableCache | None = None,
                   digests: Mapping[str, str] | None = None) -> Path:
    """All tables in one Excel workbook, one sheet each, streamed sheet by sheet.

    Every string is a string cell (no input value becomes a formula). A table with more
    than ``max_rows`` rows is cut, and a ``notes`` sheet says so and names its CSV/Parquet.
    When a ``documents`` table is present, ``doc_topics`` keeps only its key columns and
    the topic shares. With ``cache`` a sheet's XML written before for the same content is
    copied from it; ``digests`` are the tables' :func:`table_digest` when already known.

    >>> import tempfile
    >>> from openpyxl import load_workbook
    >>> p = write_workbook({"documents": pd.DataFrame({"doc_id": ["=1+1"]})}, Path(tempfile.mkdtemp()) / "b.xlsx")
    >>> cell = load_workbook(p)["documents"]["A2"]
    >>> cell.value, cell.data_type
    ('=1+1', 's')
    """
    path = Path(path)
    max_rows = max(1, int(max_rows))
    notes: list[tuple[str, str]] = []
    sheets: list[tuple[str, pd.DataFrame, str | None]] = []  # name, rows, content digest (with a cache)
    digests = dict(digests or {})
    for name, df in tables.items():
        sheet_name = name[:31]
        whole = df
        if name == "doc_topics" and "documents" in tables:
            df, dropped = _without_docvars(df, tables["documents"])
            if dropped:
                notes.append((sheet_name, f"document variables ({', '.join(map(str, dropped))}) are on the "
                                          f"'documents' sheet (join on doc_id); {name}.csv/.parquet have them too"))
        if len(df) > max_rows:
            notes.append((sheet_name, f"first {max_rows:,} of {len(df):,} rows; all rows in {name}.csv and "
                                      f"{name}.parquet"))
            df = df.head(max_rows)
        if cache is not None and (df is not whole or name not in digests):
            digests[name] = table_digest(df)
        sheets.append((sheet_name, df, digests.get(name)))
    if notes:
        sheets.append(("notes", pd.DataFrame(notes, columns=["sheet", "note"]), None))
    if not sheets:
        sheets.append(("empty", pd.DataFrame(), None))
    with replacing(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for part, xml in _xlsx_parts([name for name, _, _ in sheets]).items():
            book.writestr(_zip_member(part), xml)
        for i, (_, df, digest) in enumerate(sheets, 1):
            with book.open(_zip_member(f"xl/worksheets/sheet{i}.xml"), "w", force_zip64=True) as stream:
                entry = _cached_sheet(df, cache, digest) if cache is not None and digest else None
                if entry is None:
                    _stream_sheet(df, stream)
                else:
                    with entry:
                        shutil.copyfileobj(entry, stream, 2**20)
    return path


ZIP_TIME = (1980, 1, 1, 0, 0, 0)  #: every workbook part's time stamp, so the same tables give the same bytes


def _zip_member(name: str) -> zipfile.ZipInfo:
    """A workbook part dated ``ZIP_TIME`` (not the clock), deflated at level 1."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1)  # 3.13 renamed it
    return info


def _cached_sheet(df: pd.DataFrame, cache: TableCache, digest: str) -> BinaryIO | None:
    """The intact cache entry of ``df``'s sheet XML opened for reading, written first when missing
    or damaged; ``None`` when the cache can be neither read nor written."""
    entry = cache.verified(digest, "sheet.xml") or cache.store(digest, "sheet.xml", functools.partial(_write_sheet, df))
    try:
        return None if entry is None else open(entry, "rb")
    except OSError:
        return None


def _write_sheet(df: pd.DataFrame, target: Path) -> None:
    with open(target, "wb") as fh:
        _stream_sheet(df, fh)


def _stream_sheet(df: pd.DataFrame, stream: BinaryIO) -> None:
    """``df``'s sheet XML (:func:`_sheet_xml`) written to ``stream`` as UTF-8, chunk by chunk."""
    for chunk in _sheet_xml(df):
        stream.write(chunk.encode("utf-8", "replace"))


_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_ROW = "\x00"  # stands for the row number in a cell reference; never in text (NUL is not XML)
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _sheet_xml(df: pd.DataFrame, rows_per_chunk: int = 2000) -> Iterator[str]:
    """A worksheet's XML in chunks: a header row of column names, then one row per table row;
    missing values are left out (empty cells), text is an inline string cell."""
    letters = [_column_letter(j) for j in range(len(df.columns))]
    last = f"{letters[-1]}{len(df) + 1}" if letters else "A1"
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
           '"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f'<dimension ref="A1:{last}"/><sheetData>')
    header = "".join(_xml_cell(f"{letters[j]}1", str(c)) for j, c in enumerate(df.columns))
    yield f'<row r="1">{header}</row>'
    columns = [_column_xml(df.iloc[:, j], letters[j]) for j in range(len(df.columns))]
    rows = zip(*columns) if columns else iter(())
    buffer = []
    for r, cells in enumerate(rows, 2):
        buffer.append(f'<row r="{r}">{"".join(cells).replace(_ROW, str(r))}</row>')
        if len(buffer) >= rows_per_chunk:
            yield "".join(buffer)
            buffer = []
    yield "".join(buffer) + "</sheetData></worksheet>"


def _column_xml(series: pd.Series, letter: str) -> list[str]:
    """Each value of a column as a cell's XML with ``_ROW`` where the row number goes ('' when missing)."""
    ref = letter + _ROW
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":  # the common cases, without a call per cell
        return [f'<c r="{ref}"><v>{v}</v></c>' for v in series.tolist()]
    if isinstance(series.dtype, np.dtype) and series.dtype.kind == "f":
        return [f'<c r="{ref}"><v>{v!r}</v></c>' if math.isfinite(v) else _xml_cell(ref, _number(v))
                for v in series.to_numpy(dtype=float).tolist()]
    return [_xml_cell(ref, v) for v in _column_values(series)]


def _xml_cell(ref: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, np.integer)):
        return f'<c r="{ref}"><v>{int(value)}</v></c>'
    if isinstance(value, (float, np.floating)):
        value = _number(value)
        if value is None:
            return ""
        if isinstance(value, float):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime().replace(tzinfo=None)
    if isinstance(value, dt.datetime):
        days = (value.replace(tzinfo=None) - _EXCEL_EPOCH) / dt.timedelta(days=1)
        return f'<c r="{ref}" s="1"><v>{days!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="2"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>'
    text = _excel_text(str(value)).translate(_XML_ESCAPES)
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _column_letter(j: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    out = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        out = chr(65 + rem) + out
    return out


def _xlsx_parts(sheet_names: list[str]) -> dict[str, str]:
    """The workbook's fixed parts: content types, relationships, the sheet list and two date styles."""
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
                        for i in range(1, len(sheet_names) + 1))
    sheets = "".join(f'<sheet name="{name.translate(_XML_ESCAPES)}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, name in enumerate(sheet_names, 1))
    rels = "".join(f'<Relationship Id="rId{i}" Type="{rel_ns}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, len(sheet_names) + 1))
    n = len(sheet_names) + 1
    return {
        "[Content_Types].xml": (
            f'{head}<Types xmlns="{pkg}/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f'{overrides}</Types>'),
        "_rels/.rels": (f'{head}<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
                        f'Type="{rel_ns}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'{head}<workbook xmlns="{main}" xmlns:r="{rel_ns}"><sheets>{sheets}</sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'{head}<Relationships xmlns="{pkg}/relationships">{rels}<Relationship Id="rId{n}" '
            f'Type="{rel_ns}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": (
            f'{head}<styleSheet xmlns="{main}"><numFmts count="1"><numFmt numFmtId="164" '
            'formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
            '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
            'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
            '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            'borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
            'xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
    }


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
    if isinstance(v, (np.datetime64, np.timedelta64)):  # numpy's own NaT, which is not pd.NaT
        return bool(np.isnat(v))
    return isinstance(v, float) and math.isnan(v)


def _excel_text(text: str) -> str:
    """Text Excel can store: control characters it refuses are dropped, and at most 32,767 characters."""
    return _ILLEGAL_XML.sub("", text)[:32767]


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns that mix types (e.g. ids that look numeric) become strings for Arrow; their
    missing values (None, NaN, ``pd.NA``, ``NaT``) stay missing (null), never the text ``'<NA>'``."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(type).nunique() > 1:
            out[col] = out[col].map(lambda v: None if _is_missing(v) else str(v))
    return out
