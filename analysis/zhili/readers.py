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
import numbers
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from zhili.errors import E, W, ZhiliError, warning_text

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
# hidden names left out without a word: what systems, editors and version control leave in folders
SYSTEM_HIDDEN = frozenset({".DS_Store", ".git", ".svn", ".hg", ".ipynb_checkpoints", ".localized", ".directory",
                           ".Trashes", ".Spotlight-V100", ".fseventsd", ".AppleDouble", ".gitignore", ".gitattributes"})
HIDDEN = "hidden"  # the problem walk_files gives for a hidden file or folder (E019)
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


BATCH_ROWS = 2_000  # rows per batch when a table is streamed (jsonl lines, CSV rows, Parquet rows)
BATCH_CHARS = 4_000_000  # and at most about this many characters per .jsonl batch
CSV_BATCH_ROWS = 50_000  # CSV numbers are inferred per batch: large batches keep whole files alike
SAMPLE_BYTES = 1 << 20  # bytes of a streamed text table used to detect its encoding
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
REPLACEMENT_CHAR = "\ufffd"


def read_table(
    path: str | Path, text_col: str = "text", id_col: str | None = None, encoding: str | None = None,
    sheet: str | int | list | None = None,
) -> pd.DataFrame:
    """Rows of a table file (see ``TABLE_SUFFIXES``) as ``doc_id, text, _row, <docvars...>``.

    ``doc_id`` (str) comes from ``id_col``, else a column named 'doc_id' or 'id', else (and
    for empty id cells) ``f"{name}-{row}"`` with the file name minus its table suffix.
    ``text`` is the text column as str (missing -> ""). ``_row`` is the 1-based data row
    (for .jsonl: the line number). Other columns follow under their own names; one whose name
    zhili uses itself (``zhili.docvars.RESERVED``: doc_id, text, status, source …) gets the
    suffix '_original'. No row is dropped: a row that cannot be read (a broken .jsonl line)
    is there with its reason in an ``_error`` column (only present when some row failed).
    Every sheet of an .xlsx is read (``sheet`` chooses one name/index or a list); with more
    than one, a ``sheet`` column names each row's sheet and default ids are
    ``f"{name}-{sheet}-{row}"``. CSV/TSV cells are read as text (ids keep leading zeros);
    docvar columns holding only numbers become numeric. Raises E001, E005, E006, E003 (empty
    file), E007 (no text column), E008 (no id column), E002/E004 (encoding).

    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "reports.csv"
    >>> _ = file.write_bytes("city,year,text\\n南通,2019,市域治理\\n".encode("gbk"))
    >>> read_table(file).to_dict("records")
    [{'doc_id': 'reports-1', 'text': '市域治理', '_row': 1, 'city': '南通', 'year': 2019}]
    """
    batches = list(iter_table(path, text_col, id_col, encoding, sheet=sheet))
    table = pd.concat(batches, ignore_index=True) if len(batches) > 1 else batches[0]
    table = table.infer_objects()
    table.attrs = {"notes": [n for b in batches for n in b.attrs.get("notes", [])],
                   "renamed": {k: v for b in batches for k, v in b.attrs.get("renamed", {}).items()}}
    return table


def iter_table(
    path: str | Path, text_col: str = "text", id_col: str | None = None, encoding: str | None = None,
    sheet: str | int | list | None = None, batch_rows: int = BATCH_ROWS,
) -> Iterator[pd.DataFrame]:
    """:func:`read_table` as a stream of bounded batches (.jsonl line by line, CSV in chunks,
    Parquet by row groups), so a large table is never held whole.

    Each batch has the columns of :func:`read_table`; ``batch.attrs['notes']`` holds messages
    for the log (repaired characters), ``batch.attrs['renamed']`` the renamed columns.

    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "d.jsonl"
    >>> _ = file.write_text('{"text": "甲"}\\n{"text": oops}\\n{"text": "乙"}\\n', encoding="utf-8")
    >>> [b["doc_id"].tolist() for b in iter_table(file, batch_rows=2)]
    [['d-1', 'd-2'], ['d-3']]
    >>> next(iter_table(file))["_error"].tolist()  # doctest: +ELLIPSIS
    ['', "[E015] Row 2 of '...d.jsonl': not valid JSON (Expecting value).", '']
    """
    path = Path(path)
    if not path.exists():
        raise ZhiliError(E.E001, path=path)
    suffix = table_suffix(path)
    if suffix is None:
        raise ZhiliError(E.E005, suffix=path.suffix.lower(), path=path, supported=", ".join(TABLE_SUFFIXES))
    if path.is_dir():
        raise ZhiliError(E.E006, path=path, detail="it is a folder, not a file")
    name = path.name[: -len(suffix)]
    parts = _TABLE_READERS[suffix](path, encoding, {text_col, id_col, "doc_id", "id"}, sheet, batch_rows)
    first = True
    for part in parts:
        multi_sheet = part.sheet is not None and part.n_sheets > 1
        try:
            yield _standardise_table(part, path, name, text_col, id_col, multi_sheet, first or multi_sheet)
            first = False
        except ZhiliError as err:
            if not multi_sheet:
                raise
            # one sheet of several without the text column: that sheet is skipped, the others read
            yield _error_batch(f"{name}-{part.sheet}", str(err), part.sheet)


class _Part:
    """Raw rows of one batch: a frame, its 1-based row numbers, unreadable rows and notes."""

    def __init__(self, frame: pd.DataFrame, rows: list[int], errors: dict[int, str] | None = None,
                 notes: list[str] | None = None, sheet: str | None = None, n_sheets: int = 1) -> None:
        self.frame, self.rows, self.errors = frame, rows, errors or {}
        self.notes, self.sheet, self.n_sheets = notes or [], sheet, n_sheets


def table_suffix(path: Path) -> str | None:
    """The table suffix of a file name (``.jsonl.gz`` before ``.gz``), or None."""
    return next((s for s in TABLE_SUFFIXES if path.name.lower().endswith(s)), None)


SIDECAR_KEYS = ("doc_id", "id", "file", "filename", "file_name", "path")


def read_sidecar(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    """A metadata table (any table format, no text column needed) with a 1-based ``_row``.

    Key columns (``SIDECAR_KEYS``) are kept as text. Rows that cannot be read raise E015.

    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "meta.csv"
    >>> _ = file.write_text("file,year\\na.txt,2019\\n", encoding="utf-8")
    >>> read_sidecar(file).to_dict("records")
    [{'file': 'a.txt', 'year': 2019, '_row': 1}]
    """
    path = Path(path)
    suffix = table_suffix(path)
    if suffix is None:
        raise ZhiliError(E.E005, suffix=path.suffix.lower(), path=path, supported=", ".join(TABLE_SUFFIXES))
    frames = []
    for part in _TABLE_READERS[suffix](path, encoding, set(SIDECAR_KEYS), None, None):
        if part.errors:
            raise ZhiliError(E.E015, row=min(part.errors), path=path, detail=part.errors[min(part.errors)])
        frame = part.frame
        frame.columns = [str(column) for column in frame.columns]
        frames.append(frame.assign(_row=part.rows))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _read_delimited(path: Path, encoding: str | None, keep_as_text: set[str | None], sep: str,
                    batch_rows: int) -> Iterator[_Part]:
    stream, _ = _open_text(path, encoding)
    start = 1
    with stream:
        try:
            chunks = pd.read_csv(stream, sep=sep, dtype=str, keep_default_na=False,
                                 chunksize=None if batch_rows is None else max(batch_rows, CSV_BATCH_ROWS))
            for frame in [chunks] if batch_rows is None else chunks:
                for column in frame.columns:
                    if column not in keep_as_text:
                        frame[column] = _numbers_if_all_numeric(frame[column])
                yield _Part(frame, list(range(start, start + len(frame))))
                start += len(frame)
        except ZhiliError:
            raise
        except UnicodeDecodeError as err:  # a byte past the first MiB that the detected encoding refuses
            raise ZhiliError(E.E002, path=path, detail=f"not valid {err.encoding} after row {start - 1} ({err.reason})") from None
        except Exception as err:  # pandas.errors.ParserError and friends
            raise ZhiliError(E.E006, path=path, detail=f"{type(err).__name__}: {err}") from None


def _open_text(path: Path, encoding: str | None, json_lines: bool = False) -> tuple[io.TextIOBase, str]:
    """A text stream over a (possibly gzipped) file, the encoding detected on its first MiB.

    Raises E003 for a file without content. UTF-16 files are decoded whole. For JSON lines a
    sample that is no encoding as a whole is read as UTF-8 (JSON's encoding); its lines that
    are not valid UTF-8 are then reported one by one."""
    raw = _open_binary(path)
    sample, more, err = _read_sample(raw)
    if err is not None and not (json_lines and sample):  # a truncated .jsonl.gz: its whole lines are read
        raw.close()
        raise ZhiliError(E.E006, path=path, detail=f"not a readable .gz file ({err})") from None
    if not sample.strip():
        raw.close()
        raise ZhiliError(E.E003, path=path)
    if encoding is None and (b"\x00" in sample or sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))):
        data = sample + more + raw.read()
        raw.close()
        return io.StringIO(decode_bytes(data, str(path))[0]), "utf-16"
    cut = sample.rfind(b"\n") + 1 if more else len(sample)
    try:
        _, name = decode_bytes(sample[: cut or len(sample)], str(path), encoding)
    except ZhiliError as err:
        if not json_lines or encoding is not None or err.code != "E002":
            raw.close()
            raise
        name = "utf-8"
    raw.close()
    raw = _open_binary(path)
    # JSON lines: a line with bytes invalid in this encoding is reported alone, not the file
    return io.TextIOWrapper(raw, encoding=name, errors="surrogateescape" if json_lines else "strict"), name


def _read_sample(raw) -> tuple[bytes, bytes, Exception | None]:
    """The first ``SAMPLE_BYTES`` (read in blocks, so a truncated .gz still gives what comes before
    the damage), one more byte (empty at the end), and the error that stopped reading, if any."""
    blocks, size = [], 0
    try:
        while size < SAMPLE_BYTES:
            block = raw.read(min(1 << 16, SAMPLE_BYTES - size))
            if not block:
                return b"".join(blocks), b"", None
            blocks.append(block)
            size += len(block)
        return b"".join(blocks), raw.read(1), None
    except (OSError, EOFError) as err:
        return b"".join(blocks), b"", err


def _open_binary(path: Path):
    try:
        if path.name.lower().endswith(".gz"):
            return gzip.open(path, "rb")
        return open(path, "rb")  # noqa: SIM115  (closed by the caller)
    except OSError as err:
        raise ZhiliError(E.E006, path=path, detail=err.strerror or str(err)) from None


def _numbers_if_all_numeric(column: pd.Series) -> pd.Series:
    values = column.mask(column == "")
    try:
        return pd.to_numeric(values)
    except (ValueError, TypeError):
        return values


def _read_csv(path: Path, encoding: str | None, keep_as_text: set[str | None], sheet, batch_rows: int) -> Iterator[_Part]:
    return _read_delimited(path, encoding, keep_as_text, ",", batch_rows)


def _read_tsv(path: Path, encoding: str | None, keep_as_text: set[str | None], sheet, batch_rows: int) -> Iterator[_Part]:
    return _read_delimited(path, encoding, keep_as_text, "\t", batch_rows)


def _read_xlsx(path: Path, encoding: str | None, keep_as_text: set[str | None], sheet, batch_rows) -> Iterator[_Part]:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as err:  # zipfile/openpyxl errors for corrupt workbooks
        raise ZhiliError(E.E006, path=path, detail=f"not a readable .xlsx ({type(err).__name__}: {err})") from None
    with book:
        names = list(book.sheet_names)
        wanted = names if sheet is None else sheet if isinstance(sheet, list | tuple) else [sheet]
        chosen = []
        for want in wanted:
            match = want if want in names else names[want] if isinstance(want, int) and -len(names) <= want < len(names) else None
            if match is None:
                raise ZhiliError(E.E100, path=path, sheet=repr(want), available=", ".join(map(repr, names)))
            chosen.append(match)
        frames = {}
        for name in chosen:
            try:
                frame = pd.read_excel(book, sheet_name=name, dtype=object)  # keep text cells like '007'
            except Exception as err:  # openpyxl errors for a corrupt sheet
                raise ZhiliError(E.E006, path=path, detail=f"sheet '{name}' is not readable ({type(err).__name__}: {err})") from None
            if len(frame.columns) or len(frame) or sheet is not None:  # empty sheets hold no documents
                frames[str(name)] = frame
    if not frames:
        raise ZhiliError(E.E003, path=path)
    several = len(frames) > 1 or (isinstance(sheet, list | tuple) and len(sheet) > 1)
    for name, frame in frames.items():
        yield _Part(frame.infer_objects(), list(range(1, len(frame) + 1)), sheet=name, n_sheets=2 if several else 1)


def _read_parquet(path: Path, encoding: str | None, keep_as_text: set[str | None], sheet, batch_rows: int) -> Iterator[_Part]:
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        start = 1
        if batch_rows is None or not file.metadata.num_rows:
            batches = iter([file.read()])
        else:
            batches = file.iter_batches(batch_size=batch_rows)
        for batch in batches:
            frame = batch.to_pandas()
            if not isinstance(frame.index, pd.RangeIndex):  # a saved pandas index holds data (often the ids)
                frame = frame.reset_index()
            yield _Part(frame.reset_index(drop=True), list(range(start, start + len(frame))))
            start += len(frame)
    except ZhiliError:
        raise
    except Exception as err:  # pyarrow errors for corrupt files
        raise ZhiliError(E.E006, path=path, detail=f"not a readable .parquet ({type(err).__name__}: {err})") from None


def _read_jsonl(path: Path, encoding: str | None, keep_as_text: set[str | None], sheet, batch_rows: int) -> Iterator[_Part]:
    """Line by line: a line that is not a JSON object becomes an error row, not a failed file."""
    stream, codec = _open_text(path, encoding, json_lines=True)
    records, rows, errors, repaired = [], [], {}, []
    n_batches = n_chars = 0
    with stream:
        try:
            for line_number, line in enumerate(stream, start=1):
                if line_number == 1:
                    line = line.removeprefix("\ufeff")
                if not line.strip():
                    continue
                if batch_rows is not None and (len(rows) >= batch_rows or n_chars >= BATCH_CHARS):
                    yield _jsonl_part(records, rows, errors, repaired, path)
                    records, rows, errors, repaired, n_chars = [], [], {}, [], 0
                    n_batches += 1
                rows.append(line_number)
                n_chars += len(line)
                if _LONE_SURROGATE.search(line):  # bytes that are not valid in the file's encoding
                    errors[line_number] = f"the line is not valid {codec} text; re-save the file as UTF-8"
                    records.append({})
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    errors[line_number] = f"not valid JSON ({err.msg})"
                    records.append({})
                    continue
                if not isinstance(record, dict):
                    errors[line_number] = "each line must be a JSON object {...}"
                    record = {}
                elif _SURROGATE_ESCAPE.search(line):  # \\udc00 escapes that json turns into lone surrogates
                    fixed = _repair_surrogates(record)
                    if fixed != record:
                        record = fixed
                        repaired.append(line_number)
                records.append(record)
        except (OSError, EOFError) as err:  # a truncated or damaged file: the lines before stay read
            if not rows and not n_batches:
                raise ZhiliError(E.E006, path=path, detail=f"cannot read it to the end ({err})") from None
            line_number = (rows[-1] if rows else line_number) + 1
            rows.append(line_number)
            errors[line_number] = (f"the file ends here ({type(err).__name__}: {err}); the lines before were read, "
                                   "any after are lost: fetch or unpack the file again")
            records.append({})
    if rows or not n_batches:
        yield _jsonl_part(records, rows, errors, repaired, path)


def _jsonl_part(records: list, rows: list, errors: dict, repaired: list, path: Path) -> _Part:
    notes = []
    if repaired:
        shown = ", ".join(map(str, repaired[:10])) + (" …" if len(repaired) > 10 else "")
        notes.append(warning_text(W.W102, path=path, lines=shown))
    frame = pd.DataFrame(records, dtype=object)  # the values as parsed: no copy into Arrow strings
    if len(frame) != len(records):  # only unreadable lines: no columns, one row each
        frame = pd.DataFrame(index=range(len(records)))
    return _Part(frame,
                 rows, {r: str(ZhiliError(E.E015, row=r, path=path, detail=d)) for r, d in errors.items()}, notes)


def _repair_surrogates(value: object) -> object:
    """Strings (also keys, in lists and dicts) with lone surrogates replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(REPLACEMENT_CHAR, value)
    if isinstance(value, dict):
        return {_repair_surrogates(k): _repair_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_repair_surrogates(v) for v in value]
    return value


_TABLE_READERS = {
    ".csv": _read_csv, ".tsv": _read_tsv, ".xlsx": _read_xlsx,
    ".jsonl": _read_jsonl, ".jsonl.gz": _read_jsonl, ".parquet": _read_parquet,
}


def _error_batch(doc_id: str, reason: str, sheet: str | None) -> pd.DataFrame:
    batch = pd.DataFrame({"doc_id": [doc_id], "text": [""], "_row": [0], "_error": [reason]})
    if sheet is not None:
        batch.insert(3, "sheet", [sheet])
    batch.attrs = {"notes": [], "renamed": {}}
    return batch


def _standardise_table(part: _Part, path: Path, name: str, text_col: str, id_col: str | None,
                       multi_sheet: bool, first: bool) -> pd.DataFrame:
    from zhili.docvars import rename_reserved

    frame, rows = part.frame, part.rows
    frame.columns = [str(column) for column in frame.columns]
    available = ", ".join(frame.columns) or "(none)"
    if first and len(part.errors) < len(rows):
        if text_col not in frame.columns:
            raise ZhiliError(E.E007, path=path if part.sheet is None else f"{path}' sheet '{part.sheet}",
                             column=text_col, available=available)
        if id_col is not None and id_col not in frame.columns:
            raise ZhiliError(E.E008, path=path, column=id_col, available=available)
    if text_col not in frame.columns:  # a later batch, or only unreadable rows: their texts are empty
        frame = frame.assign(**{text_col: [""] * len(frame)})
    if id_col is None:
        id_col = next((c for c in ("doc_id", "id") if c in frame.columns and c != text_col), None)
    prefix = f"{name}-{part.sheet}" if multi_sheet else name
    ids = frame[id_col] if id_col in frame.columns else [None] * len(frame)
    errors = dict(part.errors)
    numbers_are_text = not path.name.lower().endswith((".jsonl", ".jsonl.gz"))  # a spreadsheet cell typed 12345
    for row, value in zip(rows, frame[text_col]):
        kind = _not_text(value, numbers_are_text)
        if kind and row not in errors:
            errors[row] = str(ZhiliError(E.E015, row=row, path=path, detail=(
                f"the '{text_col}' cell holds {kind}, not text; store the text as a string")))
    result = pd.DataFrame({
        "doc_id": [_cell_to_str(value) or f"{prefix}-{row}" for value, row in zip(ids, rows)],
        "text": ["" if row in errors else _cell_to_str(value) for value, row in zip(frame[text_col], rows)],
        "_row": rows,
    })
    if multi_sheet:
        result["sheet"] = part.sheet
    if errors:
        result["_error"] = [errors.get(row, "") for row in rows]
    columns = [c for c in frame.columns if c not in (text_col, id_col)]
    renamed = rename_reserved(columns)
    for column in columns:
        result[renamed.get(column, column)] = frame[column].to_numpy()
    result.attrs = {"notes": part.notes, "renamed": renamed}
    return result


def _not_text(value: object, numbers_are_text: bool = False) -> str:
    """What a text cell holds when it is not text or missing ('a list', 'a number', ...), else ''."""
    if isinstance(value, (list, tuple, dict)):
        return f"a {'list' if isinstance(value, (list, tuple)) else 'JSON object'}"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, numbers.Number) and not numbers_are_text and not (isinstance(value, float) and math.isnan(value)):
        return f"the number {value}"
    return ""


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
    Thumbs.db, desktop.ini and __MACOSX folders. A missing path raises E001. Folders that
    cannot be listed and dangling links are left out here; :func:`walk_files` reports them.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("b.txt", "a.txt", ".DS_Store", "~$a.docx"):
    ...     _ = (folder / name).write_text("x")
    >>> [p.name for p in iter_files(folder)]
    ['a.txt', 'b.txt']
    """
    return (file for file, problem in walk_files(path) if problem is None)  # walk_files checks the path now


def walk_files(path: str | Path) -> Iterator[tuple[Path, str | None]]:
    """Like :func:`iter_files`, but also ``(path, problem)`` for what cannot be read: a folder
    that cannot be listed, a dangling symbolic link, a special file (pipe, socket), and hidden
    files and folders (not read, but accounted; the ``.DS_Store``, ``.git`` … of ``SYSTEM_HIDDEN``
    are left out without a word).

    Linked folders are followed once (a link loop is reported, not followed again).

    >>> import tempfile, os
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("x")
    >>> os.symlink(folder / "gone.txt", folder / "b.txt")
    >>> [(p.name, problem) for p, problem in walk_files(folder)]  # doctest: +ELLIPSIS
    [('a.txt', None), ('b.txt', "it is a link to '...gone.txt', which does not exist")]
    """
    path = Path(path)
    if path.is_file():
        return iter([(path, None)])
    if not path.is_dir():
        raise ZhiliError(E.E001, path=path)
    return _walk(path)


def _walk(path: Path) -> Iterator[tuple[Path, str | None]]:
    found: list[tuple[Path, str | None]] = []

    def on_error(err: OSError) -> None:
        where = Path(err.filename) if err.filename else path
        found.append((where, f"cannot list this folder ({err.strerror or err})"))

    seen = {os.path.realpath(path)}
    for folder, dirs, files in os.walk(path, onerror=on_error, followlinks=True):
        here = Path(folder)
        kept = []
        for d in dirs:
            if _is_junk(d):
                if _is_hidden(d):
                    found.append((here / d, HIDDEN))
                continue
            real = os.path.realpath(here / d)
            if real in seen:
                found.append((here / d, "it is a link to a folder already read (a loop); it is not read again"))
            elif not os.path.exists(here / d):
                found.append((here / d, f"it is a link to '{os.readlink(here / d)}', which does not exist"))
            else:
                seen.add(real)
                kept.append(d)
        dirs[:] = sorted(kept)
        for name in files:
            if _is_junk(name):
                if _is_hidden(name):
                    found.append((here / name, HIDDEN))
                continue
            file = here / name
            if file.is_file():
                found.append((file, None))
            elif file.is_symlink() and not file.exists():
                found.append((file, f"it is a link to '{os.readlink(file)}', which does not exist"))
            else:
                found.append((file, "it is not a regular file (a pipe, socket or device)"))
    yield from sorted(found, key=lambda item: item[0])


def _is_junk(name: str) -> bool:
    return name.startswith((".", "~$")) or name in JUNK_NAMES


def _is_hidden(name: str) -> bool:
    """Hidden by its name, and not one of the files that systems and editors leave everywhere."""
    return name.startswith(".") and name not in SYSTEM_HIDDEN
