"""One model of document variables: how they are typed at ingest and what *missing* means.

Every docvar column leaves ingest (:func:`zhili.corpus`, :func:`zhili.corpus_from_texts`)
typed by one rule, so that every later step can rely on it:

* **years** — ``year`` and every column named in ``year_cols`` — are nullable ``Int64``.
  ``2019``, ``2019.0``, ``"2019"``, ``"2019年"``, ``"二〇一九年"``, ``"２０１９"``, dates such as
  ``"2019-05-01"``, ``"2019/5"``, ``"2019年5月1日"`` and datetime cells (xlsx) all read as 2019.
  A value that cannot be read (``"未知"``, ``"2019-2020"``) becomes ``<NA>``; the value as
  written is kept in ``<col>_raw`` (only created when some value was unreadable).
* **numbers** — a column whose values are all numbers — are ``Int64`` when every value is whole,
  else ``Float64``; booleans are ``boolean``.
* **text** — everything else — is ``object`` holding ``str``: mixed cells are written as text
  (``3.0`` -> ``"3"``), dates as ISO text, lists and dicts as JSON.
* **missing** is ``pd.NA`` in every column: ``None``, ``NaN``, ``NaT`` and empty or blank
  strings all become ``pd.NA``. Consumers find it with :func:`missing_mask`, label groups with
  :func:`group_labels` (never a group called ``'nan'``) and report it with
  :func:`summarise_missing`.

User columns never collide with zhili's own: a source column whose name zhili uses
(:data:`RESERVED`, ``topic_N``, ``<year>_raw``) is renamed with the suffix ``_original``
(``status`` -> ``status_original``; :func:`safe_name`), and ingest says so in a warning.

>>> df = pd.DataFrame({"doc_id": ["a", "b", "c"], "year": ["2019-05-01", "未知", None], "n": [1, None, 3]})
>>> typed, notes = type_docvars(df)
>>> typed["year"].tolist(), typed["year_raw"].tolist(), str(typed["n"].dtype)
([2019, <NA>, <NA>], [<NA>, '未知', <NA>], 'Int64')
>>> summarise_missing(typed, "year")
'2 of 3 documents have no year'
"""

from __future__ import annotations

import datetime as _dt
import json
import numbers
import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from zhili.errors import W, warning_text

# Columns zhili writes itself (documents.csv, doc_topics, the ingest log): a user column of the
# same name is renamed with RENAME_SUFFIX so both keep their meaning.
RESERVED = frozenset({
    "doc_id", "position", "text", "source", "script", "status", "reason", "n_chars", "n_tokens",
    "footer_removed", "sheet", "_row", "_error", "year_from",
})
# topic shares; characters each web-cleaning step removed (zhili.webtext.COUNT_COLUMNS)
_TOPIC_COLUMN = re.compile(r"topic_\d+|removed_(?:markup|pinyin|meta|page|boilerplate)")
RENAME_SUFFIX = "_original"
RAW_SUFFIX = "_raw"
YEAR_COLS = ("year",)
# zhili's own columns in Corpus.docs, typed where they are made (not by type_docvars)
OWN_COLUMNS = ("doc_id", "position", "text", "source", "script")

CHINESE_DIGITS = "〇零一二三四五六七八九"
_TO_ARABIC = str.maketrans(CHINESE_DIGITS, "00123456789")
_CN = f"[{CHINESE_DIGITS}十]"
_YEAR_ONLY = re.compile(rf"([0-9]{{4}}|[{CHINESE_DIGITS}]{{4}})(?:\.0+)?\s*年?(?:度)?")
# a date that starts with the year: 2019-05-01, 2019/5, 2019.05.01, 2019年5月1日, 2019-05-01 08:00:00, 二〇一九年五月
_DATE = re.compile(
    r"([0-9]{4})([-/.])([0-9]{1,2})(?:\2([0-9]{1,2})(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9:]+)?)?)?"
    r"|([0-9]{4})\s*年\s*([0-9]{1,2})\s*月(?:\s*([0-9]{1,2})\s*日)?"
    rf"|([{CHINESE_DIGITS}]{{4}})年{_CN}{{1,3}}月(?:{_CN}{{1,3}}日)?"
)


# ---------------------------------------------------------------- missing values


def is_missing(value: object) -> bool:
    """``None``, NaN, ``pd.NA``, ``NaT`` or a blank string.

    >>> [is_missing(v) for v in (None, float("nan"), pd.NA, pd.NaT, " ", "0", 0, [])]
    [True, True, True, True, True, False, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def missing_mask(series: pd.Series | Sequence) -> np.ndarray:
    """Boolean array: which values are missing (see :func:`is_missing`).

    >>> missing_mask(pd.Series(["南通", "", None, pd.NA])).tolist()
    [False, True, True, True]
    """
    if isinstance(series, pd.Series) and (pd.api.types.is_numeric_dtype(series.dtype)
                                          or pd.api.types.is_datetime64_any_dtype(series.dtype)):
        return series.isna().to_numpy(dtype=bool)
    return np.fromiter((is_missing(v) for v in series), dtype=bool, count=len(series))


def summarise_missing(df: pd.DataFrame, var: str, what: str = "") -> str:
    """A sentence counting the documents without ``var`` ('' when none is missing).

    Counts distinct ``doc_id`` when the frame has one (paragraphs of a document count once);
    ``what`` is appended, e.g. ``"; left out of trends"``. A variable that is absent counts as
    missing everywhere.

    >>> summarise_missing(pd.DataFrame({"doc_id": ["a", "a", "b"], "year": [2019, 2019, None]}), "year", "; left out of trends")
    '1 of 2 documents have no year; left out of trends'
    """
    ids = df["doc_id"].to_numpy() if "doc_id" in df else np.arange(len(df))
    n = len(pd.unique(ids))
    mask = missing_mask(df[var]) if var in df else np.ones(len(df), dtype=bool)
    n_missing = len(pd.unique(ids[mask]))
    if not n_missing:
        return ""
    return f"{n_missing} of {n} documents have no {var}{what}"


def group_labels(series: pd.Series) -> pd.Series:
    """Values as text labels for grouping, missing left as ``pd.NA`` (never ``'nan'``).

    Whole numbers lose their ``.0``; the index is kept.

    >>> group_labels(pd.Series([2019, None, 2020.0])).tolist()
    ['2019', <NA>, '2020']
    """
    labels = [pd.NA if is_missing(v) else _as_text(v) for v in series]
    return pd.Series(labels, index=series.index, dtype=object, name=series.name)


# ---------------------------------------------------------------- years


def parse_year(value: object) -> int | None:
    """A year from a cell or file-name field; None for a missing value; ValueError otherwise.

    >>> [parse_year(v) for v in (2019, "2019年", "二〇一九年", "２０１９", 2019.0, "2019-05-01", "", None)]
    [2019, 2019, 2019, 2019, 2019, 2019, None, None]
    >>> parse_year(_dt.datetime(2019, 5, 1)), parse_year("二〇一九年五月")
    (2019, 2019)
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()  # full-width digits -> ASCII
        match = _YEAR_ONLY.fullmatch(text)
        if match:
            return int(match.group(1).translate(_TO_ARABIC))
        match = _DATE.fullmatch(text)
        if match and _plausible_date(match):
            return int(next(g for g in (match.group(1), match.group(5), match.group(8)) if g).translate(_TO_ARABIC))
    elif isinstance(value, _dt.date | np.datetime64):
        return pd.Timestamp(value).year
    elif isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        if float(value).is_integer() and 1000 <= value <= 9999:
            return int(value)
    raise ValueError(f"not a year: {value!r}")


def _plausible_date(match: re.Match) -> bool:
    month, day = (match.group(3), match.group(4)) if match.group(1) else (match.group(6), match.group(7))
    return match.group(8) is not None or (1 <= int(month) <= 12 and (day is None or 1 <= int(day) <= 31))


def to_year(value: object) -> int | None:
    """:func:`parse_year` that never raises: None for a missing *or* unreadable value.

    >>> to_year("未知"), to_year("2019年")
    (None, 2019)
    """
    try:
        return parse_year(value)
    except ValueError:
        return None


def as_years(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``(years, raw)``: ``years`` as ``Int64`` (unreadable -> NA), ``raw`` the value as written
    where it could not be read (NA elsewhere). This is the one year policy of zhili.

    >>> years, raw = as_years(pd.Series(["2019年", "未知", None]))
    >>> years.tolist(), raw.tolist()
    ([2019, <NA>, <NA>], [<NA>, '未知', <NA>])
    """
    if pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype("Int64")
        bad = values.notna() & ((values < 1000) | (values > 9999))
        raw = pd.Series(pd.NA, index=series.index, dtype=object)
        raw[bad] = values[bad].astype(str)
        return values.mask(bad), raw
    parsed: dict = {}
    years, raw = [], []
    for value in series:
        try:
            key = (type(value), value)
            hash(key)
        except TypeError:
            key = None
        if key is None or key not in parsed:
            year = to_year(value)
            if key is not None:
                parsed[key] = year
        else:
            year = parsed[key]
        years.append(pd.NA if year is None else year)
        raw.append(_as_text(value) if year is None and not is_missing(value) else pd.NA)
    return (pd.Series(pd.array(years, dtype="Int64"), index=series.index, name=series.name),
            pd.Series(raw, index=series.index, dtype=object))


# ---------------------------------------------------------------- typing


def type_column(series: pd.Series) -> pd.Series:
    """A non-year docvar typed by the rule of this module (numbers, booleans or text; NA missing).

    >>> [str(type_column(pd.Series(v)).dtype) for v in ([1, None], [1.5, None], ["a", 1], [True, None])]
    ['Int64', 'Float64', 'object', 'boolean']
    >>> type_column(pd.Series(["a", 3.0, [1, 2], ""])).tolist()
    ['a', '3', '[1, 2]', <NA>]
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return series.astype("boolean")
    if pd.api.types.is_integer_dtype(dtype):
        return series.astype("Int64")
    if pd.api.types.is_float_dtype(dtype):
        return _numbers(series.astype("Float64"))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return group_labels(series)
    present = [v for v in series if not is_missing(v)]
    if present and all(isinstance(v, bool | np.bool_) for v in present):
        return pd.Series([pd.NA if is_missing(v) else bool(v) for v in series], index=series.index,
                         dtype="boolean", name=series.name)
    if present and all(isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in present):
        floats = pd.Series([pd.NA if is_missing(v) else float(v) for v in series], index=series.index,
                           dtype="Float64", name=series.name)
        return _numbers(floats)
    return group_labels(series)


def _numbers(values: pd.Series) -> pd.Series:
    """Float64 -> Int64 when every value is whole (and fits)."""
    present = values.dropna()
    if len(present) == 0 or ((present % 1 == 0).all() and present.abs().max() < 2**53):
        return values.astype("Int64")
    return values


def type_docvars(df: pd.DataFrame, year_cols: Iterable[str] = YEAR_COLS,
                 skip: Iterable[str] = OWN_COLUMNS) -> tuple[pd.DataFrame, list[str]]:
    """Type every docvar column of ``df`` (not those in ``skip``); return it and notes.

    Year columns get ``Int64`` and, when some value is unreadable, a ``<col>_raw`` column right
    after them; the notes say how many values were unreadable and where they are kept.

    >>> typed, notes = type_docvars(pd.DataFrame({"doc_id": ["a"], "year": ["明年"]}))
    >>> notes
    ["[W101] 1 documents have a 'year' that is not a year ('明年'); it is left empty, the value as written kept in 'year_raw'. Use 2019, 2019年, 二〇一九年 or a date."]
    """
    year_cols = set(year_cols)
    skip = set(skip)
    notes: list[str] = []
    out = {}
    for col in df.columns:
        series = df[col]
        if col in skip:
            out[col] = series
        elif col in year_cols:
            years, raw = as_years(series)
            out[col] = years
            bad = raw.notna()
            if bad.any():
                name = col + RAW_SUFFIX  # a user column of this name was renamed at ingest
                out[name] = raw
                examples = ", ".join(repr(v) for v in pd.unique(raw[bad])[:3])
                notes.append(warning_text(W.W101, n=int(bad.sum()), var=col, examples=examples, raw=name))
        else:
            out[col] = type_column(series)
    return pd.DataFrame(out, index=df.index), notes


def _as_text(value: object) -> str:
    """A present cell as text: 3.0 -> '3', dates ISO, lists/dicts JSON, strings as written."""
    if isinstance(value, str):
        return value
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp | _dt.datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | dict | np.ndarray):
        return json.dumps(value.tolist() if isinstance(value, np.ndarray) else value, ensure_ascii=False, default=str)
    return str(value)


# ---------------------------------------------------------------- names


def is_reserved(name: str, year_cols: Iterable[str] = YEAR_COLS) -> bool:
    """Is ``name`` a column zhili writes itself?

    >>> [is_reserved(n) for n in ("status", "topic_3", "year_raw", "removed_pinyin", "city", "topic_x")]
    [True, True, True, True, False, False]
    """
    return name in RESERVED or bool(_TOPIC_COLUMN.fullmatch(name)) or name in {y + RAW_SUFFIX for y in year_cols}


def safe_name(name: str, taken: Iterable[str]) -> str:
    """``name + '_original'`` (then ``_original2`` …) not among ``taken`` nor reserved.

    >>> safe_name("status", {"status", "status_original"})
    'status_original2'
    """
    taken = set(taken)
    base = name if name.endswith(RENAME_SUFFIX) else name + RENAME_SUFFIX
    candidate, i = base, 1
    while candidate in taken or is_reserved(candidate):
        i += 1
        candidate = f"{base}{i}"
    return candidate


def rename_reserved(columns: Iterable[str], year_cols: Iterable[str] = YEAR_COLS,
                    taken: Iterable[str] = ()) -> dict[str, str]:
    """``{old: new}`` for the user columns whose names zhili uses (see :func:`safe_name`).

    >>> rename_reserved(["city", "status", "source", "topic_0"])
    {'status': 'status_original', 'source': 'source_original', 'topic_0': 'topic_0_original'}
    """
    columns = [str(c) for c in columns]
    year_cols = tuple(year_cols)
    used = set(columns) | set(taken)
    mapping = {}
    for col in columns:
        if is_reserved(col, year_cols):
            new = safe_name(col, used)
            used.add(new)
            mapping[col] = new
    return mapping


def rename_message(mapping: dict[str, str], where: str) -> str:
    """The warning for renamed columns.

    >>> rename_message({"status": "status_original"}, "'a.csv'")
    "[W100] Columns of 'a.csv' named like zhili's own are kept under new names: 'status' -> 'status_original'. Refer to them by the new names (e.g. --by)."
    """
    pairs = ", ".join(f"'{old}' -> '{new}'" for old, new in mapping.items())
    return warning_text(W.W100, where=where, pairs=pairs)
