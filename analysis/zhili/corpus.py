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

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from . import metadata, readers
from .errors import E, ZhiliError
from .normalize import detect_script

UNITS = ("document", "paragraph", "sentence")
AUTO_SIDECAR = "metadata.csv"  # a folder's own sidecar, used when none is given
LOG_COLUMNS = ["doc_id", "source", "status", "reason", "n_chars"]

_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]*[”’」』\"')）]*")


@dataclass
class Corpus:
    """Documents (or paragraphs/sentences) with their variables, plus the ingest log.

    ``docs`` has one row per unit: ``doc_id``, ``position`` (1-based, 0 for whole documents),
    ``text`` (original script, bylines removed), then document variables (``source``,
    ``script``, ``year``, ``city`` …). ``log`` has one row per input document.
    """

    docs: pd.DataFrame
    log: pd.DataFrame
    unit: str = "document"
    inputs: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
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
        return self.docs["text"].tolist()

    @property
    def docvars(self) -> pd.DataFrame:
        """Everything but the text: ``doc_id``, ``position`` and the document variables."""
        return self.docs.drop(columns="text")

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
        return self.log.merge(docvars, on="doc_id", how="left")

    def reshape(self, unit: str) -> Corpus:
        """Split documents into paragraphs (non-empty lines) or sentences.

        Each unit keeps its ``doc_id``, its 1-based ``position`` and every variable.
        """
        if unit not in UNITS:
            raise ZhiliError(E.E014, unit=unit)
        if unit == self.unit:
            return self
        if self.unit != "document":
            raise ZhiliError(E.E014, unit=f"{unit} (from {self.unit}; reshape the document corpus instead)")
        rows = []
        for rec in self.docs.to_dict("records"):
            for pos, piece in enumerate(split_units(rec["text"], unit), start=1):
                rows.append({**rec, "position": pos, "text": piece})
        docs = pd.DataFrame(rows, columns=self.docs.columns)
        return replace(self, docs=docs.reset_index(drop=True), unit=unit)

    def subset(self, mask: Sequence[bool] | pd.Series) -> Corpus:
        """Units where ``mask`` is true.

        >>> corpus_from_texts(["甲", "乙"]).subset([True, False]).texts
        ['甲']
        """
        return replace(self, docs=self.docs[list(mask)].reset_index(drop=True))

    def shards(self, max_chars: int = 100_000, max_units: int = 2_000) -> Iterator[list[str]]:
        """Consecutive texts in shards of about ``max_chars`` characters: the unit of parallel
        work and of the segmentation cache (so boundaries depend on the corpus alone)."""
        shard: list[str] = []
        size = 0
        for text in self.docs["text"]:
            shard.append(text)
            size += len(text)
            if size >= max_chars or len(shard) >= max_units:
                yield shard
                shard, size = [], 0
        if shard:
            yield shard


def split_units(text: str, unit: str) -> list[str]:
    """Paragraphs are non-empty lines; sentences end at 。！？!? or a line break.

    >>> split_units("一、总体要求。坚持党建引领！\\n\\n二、主要任务", "sentence")
    ['一、总体要求。', '坚持党建引领！', '二、主要任务']
    """
    if unit == "paragraph":
        return [p.strip() for p in text.split("\n") if p.strip()]
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


def corpus(*sources: str | Path, text_col: str = "text", id_col: str | None = None,
           name_pattern: str | None = None, sidecar: str | Path | None = None,
           encoding: str | None = None, unit: str = "document", bylines: bool = True,
           clean_web: bool = True) -> Corpus:
    """Read ``sources`` into a :class:`Corpus`; no source means the embedded seed corpus.

    ``name_pattern`` (e.g. ``"{city}_{year}"``) takes variables from file names; ``sidecar``
    is a table joined on ``doc_id``/``id`` or on the file name (default: each source
    folder's own ``metadata.csv``). Unreadable, empty or
    duplicate documents are skipped with a reason in ``Corpus.log``. With ``bylines`` (the
    default) author and editor lines become variables and licence footers (Wikisource's
    public-domain notice) are cut, their length kept in ``footer_removed``.
    With ``clean_web`` (the default) scraped-page residue leaves the text (:mod:`zhili.webtext`:
    pinyin glosses, markup, navigation, site boilerplate, meta lines as variables), counted per
    document in ``removed_*`` columns.

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
    pattern = metadata.compile_name_pattern(name_pattern) if name_pattern else None
    sidecars = [Path(sidecar).resolve()] if sidecar else [
        (p / AUTO_SIDECAR).resolve() for p in paths if p.is_dir() and (p / AUTO_SIDECAR).is_file()]

    inputs: list[dict] = []
    warnings: list[str] = []
    records: list[_Record] = []
    seen: dict[str, str] = {}
    n_footers = 0
    for rec in iter_records(paths, text_col=text_col, id_col=id_col, pattern=pattern, encoding=encoding,
                            exclude=set(sidecars), inputs=inputs, warnings=warnings):
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
        records.append(rec)

    # --- web-text cleaning hook (zhili.webtext owns the logic) ---
    if clean_web:
        from . import webtext
        webtext.clean_records(records, warnings)
    # --- end of hook ---
    if n_footers:
        warnings.append(f"Removed a licence footer (Wikisource's public-domain notice) from {n_footers} documents; "
                        "'footer_removed' gives the characters removed from each (keep them with bylines=False, "
                        "--keep-bylines).")
    analysed = [r for r in records if r.status == "analysed"]
    docs = pd.DataFrame([{"doc_id": r.doc_id, "position": 0, "text": r.text, "source": r.source,
                          "script": detect_script(r.text), **r.docvars} for r in analysed],
                        columns=None if analysed else ["doc_id", "position", "text", "source", "script"])
    log = pd.DataFrame([{"doc_id": r.doc_id, "source": r.source, "status": r.status, "reason": r.reason,
                         "n_chars": len(r.text)} for r in records], columns=LOG_COLUMNS)
    if "footer_removed" in docs:
        docs["footer_removed"] = docs["footer_removed"].astype("Int64")
    for path in sidecars:
        docs = _join_sidecar(docs, path, warnings)
    docs = _parse_years(docs, warnings)
    c = Corpus(docs=docs, log=log, inputs=inputs, warnings=warnings)
    return c.reshape(unit)


def corpus_from_texts(texts: Iterable[str], doc_ids: Iterable[str] | None = None,
                      docvars: Mapping[str, Sequence] | pd.DataFrame | None = None) -> Corpus:
    """A corpus from strings in memory (notebooks, tests).

    >>> corpus_from_texts(["社会治理"], doc_ids=["a"]).docs["doc_id"].tolist()
    ['a']
    """
    texts = list(texts)
    ids = [str(i) for i in doc_ids] if doc_ids is not None else [f"text{i + 1}" for i in range(len(texts))]
    docs = pd.DataFrame({"doc_id": ids, "position": 0, "text": texts, "source": "<memory>",
                         "script": [detect_script(t) for t in texts]})
    if docvars is not None:
        extra = pd.DataFrame(docvars).reset_index(drop=True)
        docs = pd.concat([docs, extra], axis=1)
    dup = docs["doc_id"][docs["doc_id"].duplicated()]
    if len(dup):
        raise ZhiliError(E.E009, doc_id=dup.iloc[0], first="<memory>", second="<memory>")
    log = pd.DataFrame({"doc_id": ids, "source": "<memory>", "status": "analysed", "reason": "",
                        "n_chars": [len(t) for t in texts]}, columns=LOG_COLUMNS)
    return Corpus(docs=_parse_years(docs, []), log=log)


def iter_records(paths: Sequence[Path], *, text_col: str, id_col: str | None, pattern: re.Pattern | None,
                 encoding: str | None, exclude: set[Path], inputs: list[dict], warnings: list[str]) -> Iterator[_Record]:
    """Stream one record per input document (read or skipped), appending to ``inputs``."""
    for root in paths:
        for path in readers.iter_files(root):
            if path.resolve() in exclude:
                continue
            rel = path.relative_to(root).with_suffix("") if root.is_dir() else Path(path.stem)
            doc_id = _strip_suffixes(rel.as_posix())
            source = str(path)
            try:
                data = path.read_bytes()
            except OSError as exc:
                yield _Record(doc_id, source, status="skipped", reason=str(ZhiliError(E.E006, path=path, detail=exc)))
                continue
            entry = {"path": source, "sha256": hashlib.sha256(data).hexdigest(), "n_docs": 0}
            inputs.append(entry)
            name = path.name.lower()
            try:
                if name.endswith(readers.TABLE_SUFFIXES):
                    table = readers.read_table(path, text_col=text_col, id_col=id_col, encoding=encoding)
                    entry["n_docs"] = len(table)
                    yield from _table_records(table, source)
                    continue
                if not name.endswith(readers.DOCUMENT_SUFFIXES):
                    raise ZhiliError(E.E005, suffix=path.suffix or "(none)", path=path,
                                     supported=" ".join(readers.DOCUMENT_SUFFIXES + readers.TABLE_SUFFIXES))
                text = readers.read_document(path, encoding=encoding)
            except ZhiliError as exc:
                entry["n_docs"] = entry["n_docs"] or 1
                yield _Record(doc_id, source, status="skipped", reason=str(exc))
                continue
            entry["n_docs"] = 1
            docvars: dict = {}
            if pattern is not None:
                fields = metadata.parse_file_name(path.stem, pattern)
                if fields is None:
                    warnings.append(f"'{path.name}' does not match --name-pattern '{pattern.pattern}'; its variables are left empty.")
                else:
                    docvars.update(fields)
            yield _Record(doc_id, source, text, docvars)


def _table_records(table: pd.DataFrame, source: str) -> Iterator[_Record]:
    varcols = [c for c in table.columns if c not in ("doc_id", "text", "_row")]
    for row in table.to_dict("records"):
        where = f"{source} row {row['_row']}"
        docvars = {c: row[c] for c in varcols}
        text = row["text"]
        if not str(text).strip():
            yield _Record(str(row["doc_id"]), where, status="skipped",
                          reason=str(ZhiliError(E.E015, row=row["_row"], path=source, detail="the text cell is empty; fill it or delete the row")))
        else:
            yield _Record(str(row["doc_id"]), where, str(text), docvars)


def _strip_suffixes(name: str) -> str:
    for suffix in (".jsonl.gz",):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _join_sidecar(docs: pd.DataFrame, path: Path, warnings: list[str]) -> pd.DataFrame:
    table = readers.read_sidecar(path)
    key = next((k for k in readers.SIDECAR_KEYS if k in table.columns), None)
    if key is None:
        raise ZhiliError(E.E011, path=path, expected=", ".join(readers.SIDECAR_KEYS), available=", ".join(map(str, table.columns)))
    ids = set(docs["doc_id"])
    by_name = {Path(s).name: d for s, d in zip(docs["source"], docs["doc_id"])}
    by_stem = {Path(s).stem: d for s, d in zip(docs["source"], docs["doc_id"])}
    rows = []
    for row in table.to_dict("records"):
        k = str(row[key]).strip()
        doc_id = k if k in ids else by_name.get(Path(k).name) or by_stem.get(Path(k).stem) or by_stem.get(k)
        if doc_id is None:
            warnings.append(str(ZhiliError(E.E010, path=path, row=row.get("_row", "?"), key=k)))
            continue
        rows.append({"doc_id": doc_id, **{c: v for c, v in row.items() if c not in (key, "_row", "doc_id", "text")}})
    if not rows:
        return docs
    side = pd.DataFrame(rows).drop_duplicates("doc_id", keep="last").set_index("doc_id")
    merged = docs.set_index("doc_id")
    for col in side.columns:
        values = side[col].reindex(merged.index)
        merged[col] = values.combine_first(merged[col]) if col in merged.columns else values
    return merged.reset_index()


def _parse_years(docs: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    if "year" not in docs.columns:
        return docs
    years = []
    for doc_id, value in zip(docs["doc_id"], docs["year"]):
        try:
            years.append(metadata.parse_year(value))
        except ValueError:
            warnings.append(str(ZhiliError(E.E017, var="year", value=value, doc_id=doc_id)) + " Left empty.")
            years.append(None)
    docs = docs.copy()
    docs["year"] = pd.array(years, dtype="Int64")
    return docs


def default_seed_dir() -> Path:
    """The embedded default corpus: the repository's ``seeds/`` folder, or the packaged copy."""
    repo_seeds = Path(__file__).resolve().parents[2] / "seeds"
    if repo_seeds.is_dir():
        return repo_seeds
    return Path(__file__).resolve().parent / "data" / "seeds"
