"""Ingest: read sources into a :class:`Corpus` whose document variables travel with it.

A source is a folder (read recursively), a document file (.txt .md .html .docx .pdf) or a
table (.csv .tsv .xlsx .jsonl .jsonl.gz .parquet) with one document per row. Every input
is accounted for: it is either in ``Corpus.docs`` or in ``Corpus.log`` with
``status='skipped'`` and a reason that says how to fix it.

>>> c = corpus_from_texts(["推进市域社会治理现代化，加强網格化管理。矛盾纠纷化解。", "平安建设"], docvars={"year": [2019, 2020]})
>>> len(c), c.docs["script"].tolist()
(2, ['mixed', 'simplified'])
>>> len(c.reshape("sentence"))
3
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import docvars as docvars_model
from . import metadata, readers
from .errors import E, ZhiliError, ZhiliWarning
from .files import file_sha256
from .normalize import detect_script
from .textstore import LazyTexts, TextStore

UNITS = ("document", "paragraph", "sentence")
AUTO_SIDECAR = "metadata.csv"  # a folder's own sidecar, used when none is given
LOG_COLUMNS = ["doc_id", "source", "status", "reason", "n_chars"]

_SENTENCE = re.compile(r"[^。！？!?\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+[。！？!?]*[”’」』\"')）]*")


@dataclass
class Corpus:
    """Documents (or paragraphs/sentences) with their variables, plus the ingest log.

    ``docs`` has one row per unit: ``doc_id``, ``position`` (1-based, 0 for whole documents),
    ``text`` (original script, bylines removed), then document variables (``source``,
    ``script``, ``year``, ``city`` …). ``log`` has one row per input document.
    A spilled corpus (:meth:`spill`) keeps its texts on disk in ``store`` instead (``refs``: each
    unit's position there) and ``docs`` has no ``text``; read texts with :meth:`iter_texts`,
    :meth:`text_at` or :attr:`texts`, which work for both.
    """

    docs: pd.DataFrame
    log: pd.DataFrame
    unit: str = "document"
    inputs: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    store: TextStore | None = None
    refs: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.store is not None:
            if self.refs is None:
                self.refs = np.arange(len(self.docs), dtype=np.int64)
            return
        # every consumer (normalise, segment, KWIC) wants Python strings: convert once here,
        # not on each pass over an Arrow-backed column
        if "text" in self.docs and self.docs["text"].dtype != object:
            self.docs = self.docs.assign(text=self.docs["text"].astype(object))

    def __len__(self) -> int:
        return len(self.docs)

    def __repr__(self) -> str:
        skipped = int((self.log["status"] == "skipped").sum()) if len(self.log) else 0
        return f"Corpus({len(self)} {self.unit}s from {len(self.log) - skipped} documents, {skipped} skipped)"

    @property
    def texts(self) -> list[str]:
        """Every unit's text, in memory (for a spilled corpus prefer :meth:`iter_texts`)."""
        return list(self.iter_texts())

    def iter_texts(self) -> Iterator[str]:
        """The units' texts in order, read from the store block by block when spilled."""
        if self.store is None:
            return iter(self.docs["text"].tolist())
        return self.store.take(self.refs)

    def text_at(self, row: int) -> str:
        """The text of the unit in row ``row`` of ``docs``."""
        if self.store is None:
            return self.docs["text"].iat[row]
        return self.store[int(self.refs[row])]

    def spill(self, folder: str | Path | None = None) -> Corpus:
        """This corpus with its texts moved to a :class:`~zhili.textstore.TextStore` in ``folder``.

        >>> c = corpus_from_texts(["甲\\n乙"]).spill()
        >>> "text" in c.docs, c.texts, c.reshape("paragraph").texts
        (False, ['甲\\n乙'], ['甲', '乙'])
        """
        if self.store is not None:
            return self
        store = TextStore(folder)
        store.extend(self.docs["text"])
        return self._derived(docs=self.docs.drop(columns="text"), store=store, refs=None)

    @property
    def docvars(self) -> pd.DataFrame:
        """Everything but the text: ``doc_id``, ``position`` and the document variables."""
        return self.docs.drop(columns="text", errors="ignore")

    @property
    def unit_ids(self) -> list[str]:
        """One id per unit: the ``doc_id`` for documents, ``doc_id#position`` otherwise.

        >>> corpus_from_texts(["甲。乙。"], doc_ids=["d"]).reshape("sentence").unit_ids
        ['d#1', 'd#2']
        """
        if self.unit == "document":
            return self.docs["doc_id"].tolist()
        return [f"{d}#{p}" for d, p in zip(self.docs["doc_id"], self.docs["position"])]

    def document_table(self) -> pd.DataFrame:
        """One row per input document: ``doc_id, source, status, reason, n_chars`` + docvars.

        >>> corpus_from_texts(["甲"], docvars={"year": [2019]}).document_table().columns.tolist()
        ['doc_id', 'source', 'status', 'reason', 'n_chars', 'script', 'year']
        """
        docvars = self.docs.drop(columns=["text", "position", "source"], errors="ignore").drop_duplicates("doc_id")
        table = self.log.merge(docvars, on="doc_id", how="left")
        skipped = (table["status"] != "analysed").to_numpy()
        if skipped.any():  # a skipped duplicate of an analysed id must not show that document's variables
            for column in docvars.columns.drop("doc_id"):
                table[column] = table[column].mask(skipped)
        return table

    def reshape(self, unit: str) -> Corpus:
        """Split documents into paragraphs (non-empty lines) or sentences.

        Each unit keeps its ``doc_id``, its 1-based ``position`` and every variable (with its type).
        A spilled corpus gives a spilled corpus (its units in a new store, in the folder of the old one).
        """
        if unit not in UNITS:
            raise ZhiliError(E.E014, unit=unit)
        if unit == self.unit:
            return self
        if self.unit != "document":
            raise ZhiliError(E.E014, unit=f"{unit} (from {self.unit}; reshape the document corpus instead)")
        store = TextStore(self.store.folder) if self.store is not None else None
        pieces: list[str] = []
        counts = np.zeros(len(self.docs), dtype=np.int64)
        for i, text in enumerate(self.iter_texts()):
            units = split_units(text, unit)
            counts[i] = len(units)
            if store is not None:
                store.extend(units)
            else:
                pieces.extend(units)
        docs = self.docs.iloc[np.repeat(np.arange(len(self.docs)), counts)].reset_index(drop=True)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        docs["position"] = np.arange(len(docs), dtype=np.int64) - starts + 1
        if store is None:
            docs["text"] = pd.Series(pieces, dtype=object)
        return self._derived(docs=docs, unit=unit, store=store, refs=None)

    def subset(self, mask: Sequence[bool] | pd.Series) -> Corpus:
        """Units where ``mask`` is true.

        >>> corpus_from_texts(["甲", "乙"]).subset([True, False]).texts
        ['甲']
        """
        keep = np.asarray(list(mask), dtype=bool)
        refs = self.refs[keep] if self.store is not None else None
        return self._derived(docs=self.docs[keep].reset_index(drop=True), refs=refs)

    def whole_documents(self) -> tuple[Sequence[str], list[str], pd.DataFrame]:
        """Texts, ids and variables of whole documents (units joined by newlines, in document
        order); a spilled corpus' texts are read when asked, not held.

        >>> texts, ids, docvars = corpus_from_texts(["甲\\n乙"], doc_ids=["d"]).reshape("paragraph").whole_documents()
        >>> list(texts), ids, list(docvars.columns[:1])
        (['甲\\n乙'], ['d'], ['doc_id'])
        """
        codes, ids = pd.factorize(self.docs["doc_id"], sort=False)
        first = np.unique(codes, return_index=True)[1] if len(codes) else np.empty(0, np.int64)
        docvars = self.docs.iloc[first].drop(columns=["text", "position"], errors="ignore").reset_index(drop=True)
        ids = [str(i) for i in ids]
        if self.unit == "document" and (codes == np.arange(len(codes))).all():
            texts: Sequence[str] = LazyTexts(self.store, self.refs) if self.store is not None \
                else self.docs["text"].tolist()
            return texts, ids, docvars
        order = np.argsort(codes, kind="stable")
        rows = np.split(order, np.cumsum(np.bincount(codes, minlength=len(ids)))[:-1]) if len(codes) else []
        if self.store is not None:
            return LazyTexts(self.store, [self.refs[r] for r in rows], joiner="\n"), ids, docvars
        column = self.docs["text"].to_numpy()
        return ["\n".join(column[r]) for r in rows], ids, docvars

    def _derived(self, **changes) -> Corpus:
        """A new corpus from this one with its own ``log``, ``inputs`` and ``warnings`` (appending a
        warning to one never shows up in the other)."""
        return replace(self, log=self.log.copy(), inputs=[dict(i) for i in self.inputs],
                       warnings=list(self.warnings), **changes)

    def shards(self, max_chars: int = 100_000, max_units: int = 2_000) -> Iterator[list[str]]:
        """Consecutive texts in shards of about ``max_chars`` characters: the unit of parallel
        work and of the segmentation cache (so boundaries depend on the corpus alone)."""
        return text_batches(self.iter_texts(), max_units, max_chars)


def text_batches(texts: Iterable[str], max_texts: int, max_chars: int) -> Iterator[list[str]]:
    """Consecutive texts, at most ``max_texts`` or about ``max_chars`` characters at a time (a
    batch ends with the text that reaches either).

    >>> [len(b) for b in text_batches(["甲" * 5, "乙", "丙" * 4, "丁"], 10, 5)]
    [1, 2, 1]
    """
    batch: list[str] = []
    size = 0
    for text in texts:
        batch.append(text)
        size += len(text)
        if len(batch) >= max_texts or size >= max_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def split_units(text: str, unit: str) -> list[str]:
    """Paragraphs are non-empty lines (ended by any line or paragraph separator: ``\\n``, ``\\r``,
    U+2029 …, as :meth:`str.splitlines`); sentences end at 。！？!? or a line break.

    >>> split_units("一、总体要求。坚持党建引领！\\n\\n二、主要任务", "sentence")
    ['一、总体要求。', '坚持党建引领！', '二、主要任务']
    >>> split_units("甲\\r乙\\u2029丙", "paragraph")
    ['甲', '乙', '丙']
    """
    if unit == "paragraph":
        return [p.strip() for p in text.splitlines() if p.strip()]
    if unit == "sentence":
        return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    return [text]


@dataclass
class _Record:
    doc_id: str
    source: str
    text: str = ""
    docvars: dict = field(default_factory=dict)
    status: str = "analysed"
    reason: str = ""
    ref: int = -1                  #: the text's position in a TextStore (a spilled ingest)
    n_chars: int | None = None     #: the text's length once it is in the store


def corpus(*sources: str | Path, text_col: str = "text", id_col: str | None = None,
           name_pattern: str | None = None, sidecar: str | Path | None = None,
           encoding: str | None = None, unit: str = "document", bylines: bool = True,
           sheet: str | int | Sequence[str | int] | None = None,
           year_cols: Sequence[str] = docvars_model.YEAR_COLS, clean_web: bool = True,
           spill: bool | str | Path = False) -> Corpus:
    """Read ``sources`` into a :class:`Corpus`; no source means the embedded seed corpus.

    ``name_pattern`` (e.g. ``"{city}_{year}"``) takes variables from file names; ``sidecar``
    is a table joined on ``doc_id``/``id`` or on the file name (default: each source
    folder's own ``metadata.csv``); two sidecar rows for one document are an error (E101).
    Unreadable, empty or duplicate documents, broken table rows (a bad .jsonl line), folders
    that cannot be listed and dangling links are skipped with a reason in ``Corpus.log``.
    Every sheet of an .xlsx is read (``sheet`` names one, an index or a list). With
    ``bylines`` (the default) author and editor lines become variables and licence footers
    (Wikisource's public-domain notice) are cut, their length kept in ``footer_removed``.
    Document variables are typed by :mod:`zhili.docvars` (``year`` and ``year_cols`` as
    ``Int64``); a source column named like one of zhili's own (``status``, ``source`` …) is
    kept as ``status_original`` … with a warning.
    With ``clean_web`` (the default) scraped-page residue leaves the text (:mod:`zhili.webtext`:
    pinyin glosses, markup, navigation, site boilerplate, meta lines as variables), counted per
    document in ``removed_*`` columns.
    With ``spill`` (``True``: the system's temporary folder, or a folder) each text goes to a
    :class:`~zhili.textstore.TextStore` on disk as it is read, and the corpus holds only its
    variables: memory does not grow with the texts (see :meth:`Corpus.spill`).

    >>> c = corpus()
    >>> c.docs[["doc_id", "city", "year", "script"]].values.tolist()
    [['000_684d5e360ab53c86', '南通市', 2019, 'traditional']]
    """
    if unit not in UNITS:
        raise ZhiliError(E.E014, unit=unit)
    paths = [Path(s) for s in sources] or [default_seed_dir()]
    for p in [*paths, *([Path(sidecar)] if sidecar else [])]:
        if not p.exists():
            raise ZhiliError(E.E001, path=p)
    year_cols = tuple(dict.fromkeys(("year", *year_cols)))
    pattern = metadata.compile_name_pattern(name_pattern, year_fields=year_cols) if name_pattern else None
    sidecars = [Path(sidecar).resolve()] if sidecar else [
        (p / AUTO_SIDECAR).resolve() for p in paths if p.is_dir() and (p / AUTO_SIDECAR).is_file()]

    inputs: list[dict] = []
    notes: list[str] = []
    store = TextStore(None if spill is True else spill) if spill is not False else None
    docs_columns = _Columns(["doc_id", "position", *(["text"] if store is None else []), "source", "script"])
    log_columns = _Columns(LOG_COLUMNS)
    seen: dict[str, str] = {}
    records: list[_Record] = []
    n_footers = 0
    for rec in iter_records(paths, text_col=text_col, id_col=id_col, pattern=pattern, encoding=encoding,
                            exclude=set(sidecars), inputs=inputs, warnings=notes, sheet=sheet, year_cols=year_cols):
        if rec.status == "analysed":
            if rec.doc_id in seen:
                rec.status, rec.reason = "skipped", str(ZhiliError(E.E009, doc_id=rec.doc_id, first=seen[rec.doc_id], second=rec.source))
            else:
                seen[rec.doc_id] = rec.source
        if rec.status == "analysed" and bylines:
            rec.text, n_footer = metadata.strip_licence_footer(rec.text)
            if n_footer:
                rec.docvars["footer_removed"] = n_footer
                n_footers += 1
            rec.text, found = metadata.extract_bylines(rec.text)
            rec.docvars.update({k: v for k, v in found.items() if k not in rec.docvars})
        if rec.status == "analysed" and not rec.text.strip():
            rec.status, rec.reason = "skipped", str(ZhiliError(E.E003, path=rec.source))
        if store is not None:  # the text goes to disk now; a skipped one is only counted
            rec.n_chars = len(rec.text)
            if rec.status == "analysed":
                rec.ref = store.append(rec.text)
            rec.text = ""
        records.append(rec)

    # --- web-text cleaning hook (zhili.webtext owns the logic; corpus-wide: site boilerplate) ---
    if clean_web:
        from . import webtext

        if store is None:
            webtext.clean_records(records, notes)
        else:
            def put(rec: _Record, text: str) -> None:
                rec.ref, rec.n_chars = store.append(text), len(text)

            webtext.clean_records(records, notes, lambda rec: store[rec.ref], put)
    # --- end of hook ---
    refs = []
    for rec in records:
        log_columns.append({"doc_id": rec.doc_id, "source": rec.source, "status": rec.status, "reason": rec.reason,
                            "n_chars": len(rec.text) if rec.n_chars is None else rec.n_chars})
        if rec.status == "analysed":  # columns, not records: texts are held once, as Python strings
            text = rec.text if store is None else store[rec.ref]
            docs_columns.append({"doc_id": rec.doc_id, "position": 0, **({"text": text} if store is None else {}),
                                 "source": rec.source, "script": detect_script(text), **rec.docvars})
            refs.append(rec.ref)
    del records
    if n_footers:
        notes.append(f"Removed a licence footer (Wikisource's public-domain notice) from {n_footers} documents; "
                     "'footer_removed' gives the characters removed from each (keep them with bylines=False, "
                     "--keep-bylines).")
    docs = docs_columns.frame({"doc_id": None, "position": "int64", "source": None, "script": None})
    log = log_columns.frame(dict.fromkeys(LOG_COLUMNS), default=None)
    for path in sidecars:
        docs = _join_sidecar(docs, path, notes, year_cols)
    docs = _type_docvars(docs, notes, year_cols)
    c = Corpus(docs=docs, log=log, inputs=inputs, warnings=notes, store=store,
               refs=np.asarray(refs, dtype=np.int64) if store is not None else None)
    return c.reshape(unit)


class _Columns:
    """Rows appended as columns of Python objects (a new column is back-filled with None)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.columns: dict[str, list] = {name: [] for name in names}
        self.n = 0

    def append(self, row: Mapping) -> None:
        for name, value in row.items():
            if name not in self.columns:
                self.columns[name] = [None] * self.n
            self.columns[name].append(value)
        self.n += 1
        for values in self.columns.values():
            if len(values) < self.n:
                values.append(None)

    def frame(self, dtypes: Mapping[str, str | None], default: type | None = object) -> pd.DataFrame:
        """The columns as a frame; ``dtypes`` (None: inferred) or ``default`` for the others."""
        columns, self.columns = self.columns, {}
        return pd.DataFrame({name: pd.Series(values, dtype=dtypes.get(name, default)) for name, values in columns.items()},
                            index=pd.RangeIndex(self.n))


def corpus_from_texts(texts: Iterable[str], doc_ids: Iterable[str] | None = None,
                      docvars: Mapping[str, Sequence] | pd.DataFrame | None = None,
                      year_cols: Sequence[str] = docvars_model.YEAR_COLS) -> Corpus:
    """A corpus from strings in memory (notebooks, tests); docvars typed as at ingest.

    A ``doc_id`` column of ``docvars`` gives the ids when ``doc_ids`` is not given.

    >>> corpus_from_texts(["社会治理"], doc_ids=["a"]).docs["doc_id"].tolist()
    ['a']
    """
    texts = ["" if docvars_model.is_missing(t) else str(t) for t in texts]
    extra = pd.DataFrame(docvars).reset_index(drop=True) if docvars is not None else pd.DataFrame(index=range(len(texts)))
    extra.columns = [str(c) for c in extra.columns]
    if len(extra) != len(texts):
        raise ZhiliError(E.E053, n_rows=len(extra), n_docs=len(texts))
    if doc_ids is None and "doc_id" in extra:
        doc_ids, extra = extra["doc_id"].tolist(), extra.drop(columns="doc_id")
    ids = [str(i) for i in doc_ids] if doc_ids is not None else [f"text{i + 1}" for i in range(len(texts))]
    notes: list[str] = []
    renamed = docvars_model.rename_reserved(extra.columns, year_cols)
    if renamed:
        _note(notes, docvars_model.rename_message(renamed, "the docvars"))
        extra = extra.rename(columns=renamed)
    docs = pd.DataFrame({"doc_id": ids, "position": 0, "text": texts, "source": "<memory>",
                         "script": [detect_script(t) for t in texts]})
    docs = pd.concat([docs, extra], axis=1)
    dup = docs["doc_id"][docs["doc_id"].duplicated()]
    if len(dup):
        raise ZhiliError(E.E009, doc_id=dup.iloc[0], first="<memory>", second="<memory>")
    log = pd.DataFrame({"doc_id": ids, "source": "<memory>", "status": "analysed", "reason": "",
                        "n_chars": [len(t) for t in texts]}, columns=LOG_COLUMNS)
    return Corpus(docs=_type_docvars(docs, notes, tuple(dict.fromkeys(("year", *year_cols)))), log=log, warnings=notes)


def iter_records(paths: Sequence[Path], *, text_col: str, id_col: str | None, pattern: re.Pattern | None,
                 encoding: str | None, exclude: set[Path], inputs: list[dict], warnings: list[str],
                 sheet: str | int | Sequence | None = None,
                 year_cols: Sequence[str] = docvars_model.YEAR_COLS) -> Iterator[_Record]:
    """Stream one record per input document (read or skipped), appending to ``inputs``.

    Tables are read in bounded batches (:func:`zhili.readers.iter_table`)."""
    field_names = docvars_model.rename_reserved(pattern.groupindex, year_cols) if pattern is not None else {}
    if field_names:
        _note(warnings, docvars_model.rename_message(field_names, f"--name-pattern '{pattern.pattern}'"))
    for root in paths:
        for path, problem in readers.walk_files(root):
            if path.resolve() in exclude:
                continue
            rel = path.relative_to(root).with_suffix("") if root.is_dir() else Path(path.stem)
            doc_id = _strip_suffixes(rel.as_posix())
            source = str(path)
            if problem is not None:
                error = (ZhiliError(E.E019, path=path) if problem == readers.HIDDEN
                         else ZhiliError(E.E006, path=path, detail=problem))
                yield _Record(doc_id, source, status="skipped", reason=str(error))
                continue
            try:
                digest = file_sha256(path)
            except OSError as exc:
                yield _Record(doc_id, source, status="skipped", reason=str(ZhiliError(E.E006, path=path, detail=exc)))
                continue
            entry = {"path": source, "sha256": digest, "n_docs": 0}
            inputs.append(entry)
            name = path.name.lower()
            if name.endswith(readers.TABLE_SUFFIXES):
                yield from _table_records(path, entry, text_col, id_col, encoding, sheet, warnings)
                continue
            try:
                if not name.endswith(readers.DOCUMENT_SUFFIXES):
                    raise ZhiliError(E.E005, suffix=path.suffix or "(none)", path=path,
                                     supported=" ".join(readers.DOCUMENT_SUFFIXES + readers.TABLE_SUFFIXES))
                text = readers.read_document(path, encoding=encoding)
            except ZhiliError as exc:
                entry["n_docs"] = 1
                yield _Record(doc_id, source, status="skipped", reason=str(exc))
                continue
            entry["n_docs"] = 1
            docvars: dict = {}
            if pattern is not None:
                fields = metadata.parse_file_name(path.stem, pattern)
                if fields is None:
                    warnings.append(f"'{path.name}' does not match --name-pattern '{pattern.pattern}'; its variables are left empty.")
                else:
                    docvars.update({field_names.get(k, k): v for k, v in fields.items()})
            yield _Record(doc_id, source, text, docvars)


def _table_records(path: Path, entry: dict, text_col: str, id_col: str | None, encoding: str | None,
                   sheet: str | int | Sequence | None, warnings: list[str]) -> Iterator[_Record]:
    """One record per table row, batch by batch; a file that cannot be read at all is one skipped record."""
    source = str(path)
    renamed: dict[str, str] = {}
    try:
        for table in readers.iter_table(path, text_col=text_col, id_col=id_col, encoding=encoding,
                                        sheet=list(sheet) if isinstance(sheet, list | tuple) else sheet):
            warnings.extend(table.attrs.get("notes", []))
            renamed.update(table.attrs.get("renamed", {}))
            entry["n_docs"] += len(table)
            yield from _rows_to_records(table, source)
    except ZhiliError as exc:
        doc_id = _strip_suffixes(path.stem if not path.name.lower().endswith(".jsonl.gz") else path.name)
        entry["n_docs"] = entry["n_docs"] or 1
        yield _Record(doc_id, source, status="skipped", reason=str(exc))
    if renamed:
        _note(warnings, docvars_model.rename_message(renamed, f"'{path}'"))


def _rows_to_records(table: pd.DataFrame, source: str) -> Iterator[_Record]:
    varcols = [c for c in table.columns if c not in ("doc_id", "text", "_row", "_error")]
    has_sheet = "sheet" in table.columns
    errors = table["_error"].tolist() if "_error" in table.columns else [""] * len(table)
    for row, error in zip(table.to_dict("records"), errors):
        where = f"{source} sheet '{row['sheet']}' row {row['_row']}" if has_sheet else f"{source} row {row['_row']}"
        if error:
            yield _Record(str(row["doc_id"]), where, status="skipped", reason=error)
            continue
        text = row["text"]
        if not str(text).strip():
            yield _Record(str(row["doc_id"]), where, status="skipped",
                          reason=str(ZhiliError(E.E015, row=row["_row"], path=where.rsplit(" row ", 1)[0],
                                                detail="the text cell is empty; fill it or delete the row")))
        else:
            yield _Record(str(row["doc_id"]), where, str(text), {c: row[c] for c in varcols})


def _note(notes: list[str], message: str) -> None:
    """A message for run.log that is also a ZhiliWarning."""
    notes.append(message)
    warnings.warn(message, ZhiliWarning, stacklevel=3)


def _strip_suffixes(name: str) -> str:
    for suffix in (".jsonl.gz",):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _join_sidecar(docs: pd.DataFrame, path: Path, notes: list[str], year_cols: Sequence[str]) -> pd.DataFrame:
    table = readers.read_sidecar(path)
    key = next((k for k in readers.SIDECAR_KEYS if k in table.columns), None)
    if key is None:
        raise ZhiliError(E.E011, path=path, expected=", ".join(readers.SIDECAR_KEYS), available=", ".join(map(str, table.columns)))
    columns = [c for c in table.columns if c not in (key, "_row")]
    renamed = docvars_model.rename_reserved(columns, year_cols)
    if renamed:
        _note(notes, docvars_model.rename_message(renamed, f"sidecar '{path}'"))
    ids = set(docs["doc_id"])
    by_name = {Path(s).name: d for s, d in zip(docs["source"], docs["doc_id"])}
    by_stem = {Path(s).stem: d for s, d in zip(docs["source"], docs["doc_id"])}
    rows, where = [], {}
    for row in table.to_dict("records"):
        k = "" if docvars_model.is_missing(row[key]) else str(row[key]).strip()
        doc_id = k if k in ids else by_name.get(Path(k).name) or by_stem.get(Path(k).stem) or by_stem.get(k)
        if doc_id is None:
            notes.append(str(ZhiliError(E.E010, path=path, row=row.get("_row", "?"), key=k)))
            continue
        where.setdefault(doc_id, []).append((row["_row"], k))
        rows.append({"doc_id": doc_id, **{renamed.get(c, c): row[c] for c in columns}})
    for doc_id, hits in where.items():
        if len(hits) > 1:
            raise ZhiliError(E.E101, path=path, n=len(hits), doc_id=doc_id,
                             rows=", ".join(str(r) for r, _ in hits), keys=", ".join(repr(k) for _, k in hits))
    if not rows:
        return docs
    side = pd.DataFrame(rows).set_index("doc_id")
    merged = docs.set_index("doc_id")
    for col in side.columns:
        values = side[col].reindex(merged.index)
        if col in merged.columns:
            values = values.astype(object).where(~docvars_model.missing_mask(values), merged[col].astype(object))
        merged[col] = values
    return merged.reset_index()


def _type_docvars(docs: pd.DataFrame, notes: list[str], year_cols: Sequence[str]) -> pd.DataFrame:
    typed, found = docvars_model.type_docvars(docs, year_cols=year_cols)
    for message in found:
        _note(notes, message)
    return typed


def default_seed_dir() -> Path:
    """The embedded default corpus, shipped inside the package (``zhili/data/seed``)."""
    return Path(__file__).resolve().parent / "data" / "seed"
