"""Read documents and tables from disk into plain text, detecting Chinese encodings.

Chinese files arrive as UTF-8, UTF-16 (Word's "Unicode text"), GBK/GB18030 (mainland
Excel and Notepad) or Big5 (Taiwan, Hong Kong). :func:`decode_bytes` tells them apart and
refuses to guess when it cannot: a wrongly decoded file would be analysed as garbage
without anyone noticing.

>>> decode_bytes("市域社会治理现代化".encode("gbk"))
('市域社会治理现代化', 'gb18030')
>>> decode_bytes("市域社會治理現代化".encode("big5"))
('市域社會治理現代化', 'big5hkscs')
"""

from __future__ import annotations

import codecs
import functools
import gzip
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from zhili.errors import E, ZhiliError

DOCUMENT_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonl", ".jsonl.gz", ".parquet")

# Legacy encodings tried, in order of preference, when the bytes are not UTF-8/UTF-16.
# GB18030 is a superset of GB2312/GBK; Big5-HKSCS a superset of Big5.
LEGACY_ENCODINGS = ("gb18030", "big5hkscs")
# A correct decoding of Chinese text has >= ~90 % of its non-ASCII characters among the
# common ones; the wrong legacy codec gives ~10-35 %, Korean (EUC-KR) read as GBK ~60 %.
MIN_COMMON_SHARE = 0.8
N_COMMON_CHARS = 3000
CJK_PUNCTUATION = "，。、；：？！“”‘’（）《》〈〉【】「」『』〔〕—…·～々〇　"
# Control bytes that do not occur in text files (tab, newlines, form feed, DOS EOF and ESC do).
CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1a\x1b")
MAX_CONTROL_SHARE = 0.01
JUNK_NAMES = frozenset({"Thumbs.db", "desktop.ini", "__MACOSX"})
# <meta charset> labels that browsers decode with a wider codec (WHATWG Encoding Standard).
HTML_CHARSET_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "x-x-big5": "big5hkscs",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
}
HTML_DROPPED_TAGS = ["script", "style", "noscript", "template"]
HTML_BLOCK_TAGS = (
    "address,article,aside,blockquote,br,caption,dd,div,dl,dt,figcaption,figure,footer,form,"
    "h1,h2,h3,h4,h5,h6,header,hr,li,main,nav,ol,p,pre,section,table,td,th,tr,ul"
)
_BLOCK_BREAK = "\ue000"  # private-use character marking a block boundary while flattening HTML
_CJK = "\u3000-\u9fff\uf900-\ufaff\uff00-\uffef"
_SOURCE_LINE_BREAK_IN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\f]*[\r\n][ \t\r\n\f]*(?=[{_CJK}])")
_HTML_WHITESPACE = re.compile(r"[ \t\r\n\f]+")
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)


# ---------------------------------------------------------------- decoding


def decode_bytes(data: bytes, source: str = "<bytes>", encoding: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding_name)`` for raw bytes, detecting the encoding unless given.

    Detects UTF-8 (with or without BOM), UTF-16 LE/BE (BOM, or BOM-less ASCII-bearing text
    by its NUL-byte pattern), GB18030/GBK and Big5(-HKSCS). When both legacy codecs decode,
    the one whose text has more common Chinese characters wins. Strips a leading BOM and turns
    CRLF/CR into LF. Raises E002 when nothing decodes plausibly, E004 for binary data;
    ``source`` names the file in those messages.

    >>> decode_bytes(codecs.BOM_UTF8 + "第一行\\r\\n第二行".encode())
    ('第一行\\n第二行', 'utf-8-sig')
    >>> decode_bytes("治理".encode("utf-16-le"), encoding="utf-16-le")
    ('治理', 'utf-16-le')
    """
    if encoding is not None:
        text, name = _decode_strictly(data, encoding, source), codecs.lookup(encoding).name
    else:
        text, name = _detect_and_decode(data, source)
    return _normalise_newlines(text.removeprefix("\ufeff")), name


def _detect_and_decode(data: bytes, source: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return _decode_strictly(data, "utf-8-sig", source), "utf-8-sig"
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _check_utf16_text(_decode_strictly(data[len(bom):], name, source), source), name
    if b"\x00" in data:
        name = _utf16_by_nul_pattern(data)
        if name is None:
            raise ZhiliError(E.E004, path=source, detail="it contains NUL bytes")
        try:
            return _check_utf16_text(data.decode(name), source), name
        except UnicodeDecodeError:
            raise ZhiliError(E.E004, path=source, detail="it contains NUL bytes") from None
    n_control = sum(data.count(byte) for byte in CONTROL_BYTES)
    if n_control > MAX_CONTROL_SHARE * len(data):
        raise ZhiliError(E.E004, path=source, detail=f"{n_control} control bytes in {len(data)}")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        utf8_failure = f"not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start})"
    return _decode_legacy(data, source, utf8_failure)


def _decode_legacy(data: bytes, source: str, utf8_failure: str) -> tuple[str, str]:
    """Decode with the legacy codec whose text looks most like real Chinese."""
    candidates = []
    for name in LEGACY_ENCODINGS:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        candidates.append((_common_share(text), name, text))
    tried = ", ".join(LEGACY_ENCODINGS)
    if not candidates:
        raise ZhiliError(E.E002, path=source, detail=f"{utf8_failure}, and not valid {tried} either")
    share, name, text = max(candidates, key=lambda candidate: candidate[0])  # ties keep gb18030
    if share < MIN_COMMON_SHARE:
        shares = ", ".join(f"{n} {s:.0%}" for s, n, _ in candidates)
        raise ZhiliError(
            E.E002, path=source,
            detail=f"{utf8_failure}; tried {tried}, but no decoding looks like Chinese text "
            f"(share of common characters: {shares})",
        )
    return text, name


def _common_share(text: str) -> float:
    """Share of the non-ASCII characters (first 50k) that are common Chinese characters or punctuation."""
    non_ascii = [char for char in text[:50_000] if char > "\x7f"]
    if not non_ascii:
        return 0.0
    common = common_chinese_characters()
    return sum(char in common for char in non_ascii) / len(non_ascii)


@functools.cache
def common_chinese_characters() -> frozenset[str]:
    """The ~3000 most frequent Han characters (Simplified and Traditional) plus CJK punctuation.

    Ranked by jieba's HMM emission probabilities, which were estimated from running text in
    both scripts, so the set covers e.g. both 国 and 國.

    >>> {"的", "國", "国"} <= common_chinese_characters()
    True
    """
    from jieba.finalseg.prob_emit import P as emission_log_probs

    weight: dict[str, float] = {}
    for log_probs in emission_log_probs.values():
        for char, log_prob in log_probs.items():
            weight[char] = weight.get(char, 0.0) + math.exp(log_prob)
    top = sorted(weight, key=weight.__getitem__, reverse=True)[:N_COMMON_CHARS]
    full_width_ascii = (chr(code) for code in range(0xFF01, 0xFF5F))
    return frozenset(top).union(CJK_PUNCTUATION, full_width_ascii)


def _utf16_by_nul_pattern(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' if the NUL bytes sit (>= 90 %) on odd/even offsets, as in UTF-16 text with ASCII."""
    if len(data) % 2:
        return None
    nul_even, nul_odd = data[0::2].count(0), data[1::2].count(0)
    if nul_odd >= 0.9 * (nul_even + nul_odd):
        return "utf-16-le"
    if nul_even >= 0.9 * (nul_even + nul_odd):
        return "utf-16-be"
    return None


def _check_utf16_text(text: str, source: str) -> str:
    n_control = sum(text.count(chr(byte)) for byte in CONTROL_BYTES)
    if n_control > MAX_CONTROL_SHARE * len(text):
        raise ZhiliError(E.E004, path=source, detail=f"{n_control} control characters after UTF-16 decoding")
    return text


def _decode_strictly(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise ZhiliError(E.E002, path=source, detail=f"unknown encoding '{encoding}'") from None
    except UnicodeDecodeError as err:
        raise ZhiliError(
            E.E002, path=source, detail=f"not valid {encoding} (byte 0x{data[err.start]:02x} at offset {err.start})"
        ) from None


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------- documents


def read_document(path: str | Path, encoding: str | None = None) -> str:
    """Text of one document, by suffix (see ``DOCUMENT_SUFFIXES``); newlines normalised to LF.

    .txt/.md are decoded with :func:`decode_bytes`; .html/.htm give the visible body text, one
    line per block element; .docx gives paragraphs and table rows (cells tab-separated) in
    document order; .pdf the extracted text of each page. Raises E001 (missing), E005
    (unsupported suffix), E006 (unreadable), E003 (no text), E004 (binary), E002 (encoding).

    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "报告.txt"
    >>> _ = file.write_bytes("推进治理现代化。".encode("gbk"))
    >>> read_document(file)
    '推进治理现代化。'
    """
    path = Path(path)
    if not path.exists():
        raise ZhiliError(E.E001, path=path)
    suffix = path.suffix.lower()
    reader = _DOCUMENT_READERS.get(suffix)
    if reader is None:
        raise ZhiliError(E.E005, suffix=suffix, path=path, supported=", ".join(DOCUMENT_SUFFIXES))
    if path.is_dir():
        raise ZhiliError(E.E006, path=path, detail="it is a folder, not a file")
    text = _normalise_newlines(reader(path, encoding))
    if not text.strip():
        raise ZhiliError(E.E003, path=path)
    return text


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ZhiliError(E.E006, path=path, detail=err.strerror or str(err)) from None


def _read_plain_text(path: Path, encoding: str | None) -> str:
    data = _read_bytes(path)
    return decode_bytes(data, str(path), encoding)[0] if data else ""


def _read_html(path: Path, encoding: str | None) -> str:
    data = _read_bytes(path)
    if not data:
        return ""
    declared = _META_CHARSET.search(data[:4096])
    has_bom = data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if encoding is None and declared and not has_bom:
        label = declared.group(1).decode("ascii").lower()
        try:
            markup = decode_bytes(data, str(path), HTML_CHARSET_ALIASES.get(label, label))[0]
        except ZhiliError:  # wrong or unknown declaration: detect instead
            markup = decode_bytes(data, str(path))[0]
    else:
        markup = decode_bytes(data, str(path), encoding)[0]
    return html_to_text(markup)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page's body: no script/style, one line per block element.

    A source line break between two CJK characters is dropped (HTML would show a space).

    >>> html_to_text("<p>第一段<b>重点</b>\\n内容</p><script>var x;</script><div>第二段</div>")
    '第一段重点内容\\n第二段'
    """
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    if tree.body is None:
        return ""
    tree.body.strip_tags(HTML_DROPPED_TAGS)
    for block in tree.body.css(HTML_BLOCK_TAGS):
        block.insert_before(_BLOCK_BREAK)
        block.insert_after(_BLOCK_BREAK)
    text = tree.body.text(separator="")
    text = _HTML_WHITESPACE.sub(" ", _SOURCE_LINE_BREAK_IN_CJK.sub("", text))
    return "\n".join(line.strip() for line in text.split(_BLOCK_BREAK) if line.strip())


def _read_docx(path: Path, encoding: str | None) -> str:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        lines = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_docx_table_rows(block))
            else:
                lines.append(block.text)
    except Exception as err:  # python-docx/zipfile/lxml raise many types for corrupt files
        raise ZhiliError(E.E006, path=path, detail=f"not a readable .docx ({type(err).__name__}: {err})") from None
    return "\n".join(lines)


def _docx_table_rows(table) -> Iterator[str]:
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:  # a merged cell is repeated once per grid column
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(cell.text)
        yield "\t".join(cells)


def _read_pdf(path: Path, encoding: str | None) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            reader.decrypt("")
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as err:  # pypdf raises many types for corrupt or encrypted files
        raise ZhiliError(E.E006, path=path, detail=f"not a readable .pdf ({type(err).__name__}: {err})") from None


_DOCUMENT_READERS: dict[str, Callable[[Path, str | None], str]] = {
    ".txt": _read_plain_text, ".md": _read_plain_text,
    ".html": _read_html, ".htm": _read_html,
    ".docx": _read_docx, ".pdf": _read_pdf,
}


# ---------------------------------------------------------------- tables


def read_table(
    path: str | Path, text_col: str = "text", id_col: str | None = None, encoding: str | None = None
) -> pd.DataFrame:
    """Rows of a table file (see ``TABLE_SUFFIXES``) as ``doc_id, text, _row, <docvars...>``.

    ``doc_id`` (str) comes from ``id_col``, else a column named 'doc_id' or 'id', else (and
    for empty id cells) ``f"{name}-{row}"`` with the file name minus its table suffix.
    ``text`` is the text column as str (missing -> ""). ``_row`` is the 1-based data row
    (for .jsonl: the line number). Other columns follow under their own names; one that
    clashes with doc_id/text/_row gets the suffix '_original'. No row is dropped.
    CSV/TSV cells are read as text (ids keep leading zeros); docvar columns holding only
    numbers become numeric. Raises E001, E005, E006, E003 (empty file), E007 (no text
    column), E008 (no id column), E015 (bad .jsonl line), E002/E004 (encoding).

    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "reports.csv"
    >>> _ = file.write_bytes("city,year,text\\n南通,2019,市域治理\\n".encode("gbk"))
    >>> read_table(file).to_dict("records")
    [{'doc_id': 'reports-1', 'text': '市域治理', '_row': 1, 'city': '南通', 'year': 2019}]
    """
    path = Path(path)
    if not path.exists():
        raise ZhiliError(E.E001, path=path)
    suffix = next((s for s in TABLE_SUFFIXES if path.name.lower().endswith(s)), None)
    if suffix is None:
        raise ZhiliError(E.E005, suffix=path.suffix.lower(), path=path, supported=", ".join(TABLE_SUFFIXES))
    if path.is_dir():
        raise ZhiliError(E.E006, path=path, detail="it is a folder, not a file")
    frame, rows = _TABLE_READERS[suffix](path, encoding, {text_col, id_col, "doc_id", "id"})
    return _standardise_table(frame, rows, path, path.name[: -len(suffix)], text_col, id_col)


SIDECAR_KEYS = ("doc_id", "id", "file", "filename", "file_name", "path")


def read_sidecar(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    """A metadata table (any table format, no text column needed) with a 1-based ``_row``.

    Key columns (``SIDECAR_KEYS``) are kept as text.

    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "meta.csv"
    >>> _ = file.write_text("file,year\\na.txt,2019\\n", encoding="utf-8")
    >>> read_sidecar(file).to_dict("records")
    [{'file': 'a.txt', 'year': 2019, '_row': 1}]
    """
    path = Path(path)
    suffix = next((s for s in TABLE_SUFFIXES if path.name.lower().endswith(s)), None)
    if suffix is None:
        raise ZhiliError(E.E005, suffix=path.suffix.lower(), path=path, supported=", ".join(TABLE_SUFFIXES))
    frame, rows = _TABLE_READERS[suffix](path, encoding, set(SIDECAR_KEYS))
    frame.columns = [str(column) for column in frame.columns]
    return frame.assign(_row=rows)


def _read_delimited(
    path: Path, encoding: str | None, keep_as_text: set[str | None], sep: str
) -> tuple[pd.DataFrame, list[int]]:
    data = _read_bytes(path)
    if not data.strip():
        raise ZhiliError(E.E003, path=path)
    text = decode_bytes(data, str(path), encoding)[0]
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except Exception as err:  # pandas.errors.ParserError and friends
        raise ZhiliError(E.E006, path=path, detail=f"{type(err).__name__}: {err}") from None
    for column in frame.columns:
        if column not in keep_as_text:
            frame[column] = _numbers_if_all_numeric(frame[column])
    return frame, list(range(1, len(frame) + 1))


def _numbers_if_all_numeric(column: pd.Series) -> pd.Series:
    values = column.mask(column == "")
    try:
        return pd.to_numeric(values)
    except (ValueError, TypeError):
        return values


def _read_csv(path: Path, encoding: str | None, keep_as_text: set[str | None]) -> tuple[pd.DataFrame, list[int]]:
    return _read_delimited(path, encoding, keep_as_text, ",")


def _read_tsv(path: Path, encoding: str | None, keep_as_text: set[str | None]) -> tuple[pd.DataFrame, list[int]]:
    return _read_delimited(path, encoding, keep_as_text, "\t")


def _read_xlsx(path: Path, encoding: str | None, keep_as_text: set[str | None]) -> tuple[pd.DataFrame, list[int]]:
    try:
        frame = pd.read_excel(path, sheet_name=0, engine="openpyxl", dtype=object)  # keep text cells like '007'
    except Exception as err:  # zipfile/openpyxl errors for corrupt workbooks
        raise ZhiliError(E.E006, path=path, detail=f"not a readable .xlsx ({type(err).__name__}: {err})") from None
    return frame.infer_objects(), list(range(1, len(frame) + 1))


def _read_parquet(path: Path, encoding: str | None, keep_as_text: set[str | None]) -> tuple[pd.DataFrame, list[int]]:
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow errors for corrupt files
        raise ZhiliError(E.E006, path=path, detail=f"not a readable .parquet ({type(err).__name__}: {err})") from None
    if not isinstance(frame.index, pd.RangeIndex):  # a saved pandas index holds data (often the ids)
        frame = frame.reset_index()
    return frame, list(range(1, len(frame) + 1))


def _read_jsonl(path: Path, encoding: str | None, keep_as_text: set[str | None]) -> tuple[pd.DataFrame, list[int]]:
    data = _read_bytes(path)
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise ZhiliError(E.E006, path=path, detail=f"not a readable .gz file ({err})") from None
    if not data.strip():
        raise ZhiliError(E.E003, path=path)
    records, rows = [], []
    for line_number, line in enumerate(decode_bytes(data, str(path), encoding)[0].split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ZhiliError(E.E015, row=line_number, path=path, detail=f"not valid JSON ({err.msg})") from None
        if not isinstance(record, dict):
            raise ZhiliError(E.E015, row=line_number, path=path, detail="each line must be a JSON object {...}")
        records.append(record)
        rows.append(line_number)
    return pd.DataFrame.from_records(records), rows


_TABLE_READERS = {
    ".csv": _read_csv, ".tsv": _read_tsv, ".xlsx": _read_xlsx,
    ".jsonl": _read_jsonl, ".jsonl.gz": _read_jsonl, ".parquet": _read_parquet,
}


def _standardise_table(
    frame: pd.DataFrame, rows: list[int], path: Path, name: str, text_col: str, id_col: str | None
) -> pd.DataFrame:
    frame.columns = [str(column) for column in frame.columns]
    available = ", ".join(frame.columns) or "(none)"
    if text_col not in frame.columns:
        raise ZhiliError(E.E007, path=path, column=text_col, available=available)
    if id_col is not None and id_col not in frame.columns:
        raise ZhiliError(E.E008, path=path, column=id_col, available=available)
    if id_col is None:
        id_col = next((c for c in ("doc_id", "id") if c in frame.columns and c != text_col), None)
    ids = frame[id_col] if id_col is not None else [None] * len(frame)
    result = pd.DataFrame({
        "doc_id": [_cell_to_str(value) or f"{name}-{row}" for value, row in zip(ids, rows)],
        "text": [_cell_to_str(value) for value in frame[text_col]],
        "_row": rows,
    })
    for column in frame.columns:
        if column not in (text_col, id_col):
            target = f"{column}_original" if column in result.columns else column
            result[target] = frame[column].to_numpy()
    return result


def _cell_to_str(value: object) -> str:
    """A table cell as text: missing -> '', 3.0 -> '3', strings stripped of surrounding spaces."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return value.strip() if isinstance(value, str) else str(value)


# ---------------------------------------------------------------- folders


def iter_files(path: str | Path) -> Iterator[Path]:
    """A file -> itself; a folder -> every file below it, sorted, without hidden or junk files.

    Skipped: names starting with '.' (files or folders), Office lock files ('~$...'),
    Thumbs.db, desktop.ini and __MACOSX folders. A missing path raises E001.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("b.txt", "a.txt", ".DS_Store", "~$a.docx"):
    ...     _ = (folder / name).write_text("x")
    >>> [p.name for p in iter_files(folder)]
    ['a.txt', 'b.txt']
    """
    path = Path(path)
    if path.is_file():
        return iter([path])
    if not path.is_dir():
        raise ZhiliError(E.E001, path=path)
    files = (
        file for file in path.rglob("*")
        if file.is_file() and not any(_is_junk(part) for part in file.relative_to(path).parts)
    )
    return iter(sorted(files))


def _is_junk(name: str) -> bool:
    return name.startswith((".", "~$")) or name in JUNK_NAMES
