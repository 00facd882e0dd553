"""The main job: ``run(RunSettings(...))`` ingests, segments, counts and writes a results folder.

The run is the ordered list :data:`STEPS` of public functions, each usable alone in a notebook
(they return the same tables the run writes)::

    ingest -> to_units -> tokenize -> count (documents, terms) -> formulation_tables
    -> coword_network -> fit_topics / topic_tables -> effect_tables -> comparison_tables
    -> dictionary_tables -> write_results -> write_report

The folder holds ``manifest.json`` (versions, settings, input hashes, counts, timings, the size
and SHA-256 of every file), ``run.log`` (every skipped document and warning) and tidy tables
under ``tables/``. It is built in a temporary folder beside ``settings.out`` and swapped in only
when finished (:func:`zhili.files.building`), so a folder is always one whole run.

>>> import tempfile
>>> res = run(RunSettings(out=tempfile.mkdtemp(), cache=False, report=False))
>>> res.manifest["counts"]["analysed"]
1
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .corpus import LOG_COLUMNS, Corpus, corpus
from .dask_engine import check_engine
from .dtm import DTM, dtm, dtm_trim, matrix_sums, term_frequencies
from .errors import E, W, ZhiliError, ZhiliWarning, warning_text
from .files import building, check_target, file_digests, file_sha256, replacing
from .io import EXCEL_MAX_ROWS, TableCache, write_tables, write_workbook
from .manifest import command_line, math_threads, new_manifest, write_json
from .settings import FIELDS, RunSettings, check_value, from_toml_table
from .tokens import Tokens

if TYPE_CHECKING:
    from .coword import CowordNetwork
    from .topics import TopicModel

__all__ = ["RunResult", "RunSettings", "STEPS", "analysis_dtm", "cached_ingest", "code_digest", "comparison_key",
           "comparison_tables", "count", "coword_network", "dictionary_tables", "discover_phrases",
           "documents_table", "effect_tables", "fit_topics", "formulation_tables", "ingest", "ingest_key",
           "load_config", "run", "term_comparison_tables", "to_units", "tokenize", "top_keyness",
           "topic_comparison_tables", "topic_tables", "verify_results", "web_cleaning_summary", "whole_documents",
           "write_results", "write_tables", "write_workbook"]

log = logging.getLogger("zhili")
COWORD_MIN_DOCS = 20
SMALL_CORPUS = 200
TREND_TERMS = 30  # the most frequent terms get a per-year rate table with intervals
COWORD_TERMS = 100
READING_LIBRARIES = ("pandas", "pyarrow", "openpyxl", "opencc", "jieba", "python-docx", "pypdf", "selectolax")


@dataclass
class RunResult:
    """What a run produced, for notebooks: the objects, the tables and where the files are."""

    settings: RunSettings
    out: Path
    manifest: dict
    documents: Corpus | None = None       #: one row per analysed document (texts spilled: ``.texts``, ``.text_at``)
    units: Corpus | None = None           #: the units of analysis (= documents for unit='document')
    tokens: Tokens | None = None          #: not kept by run() (it counts without them): zhili.tokens(res.units)
    dtm: DTM | None = None
    coword: CowordNetwork | None = None
    model: TopicModel | None = None
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)   #: every table, by name
    tables: dict[str, Path] = field(default_factory=dict)           #: where each table was written
    warnings: list[str] = field(default_factory=list)

    @property
    def corpus(self) -> Corpus | None:
        """The units (kept for code written before ``units``)."""
        return self.units


# ---- the steps, each a public function ----

def ingest(settings: RunSettings, spill: bool = False) -> Corpus:
    """Read ``settings.sources`` (default: the seed) into a document corpus; skipped inputs are in ``.log``.
    With ``spill`` (as :func:`run` does) the texts go to a temporary file as they are read
    (:meth:`zhili.corpus.Corpus.spill`; ``TMPDIR`` picks the folder).

    >>> ingest(RunSettings()).docs["city"].tolist()
    ['南通市']
    """
    s = settings
    return corpus(*s.sources, text_col=s.text_col, id_col=s.id_col, name_pattern=s.name_pattern,
                  sidecar=s.sidecar, encoding=s.encoding, bylines=s.bylines, sheet=s.sheet or None,
                  year_cols=tuple(s.year_cols), clean_web=s.clean_web, spill=spill)


def ingest_key(settings: RunSettings) -> str | None:
    """The cache key of :func:`ingest`: every file the sources hold (path, and content or why it
    cannot be read), the sidecar, the reading settings, the code and data of zhili (readers,
    cleaning, variables …) and the versions of the libraries that read. ``None`` when a source
    cannot be looked at (the reading reports why)."""
    from .corpus import default_seed_dir
    from .manifest import library_versions
    from .readers import walk_files

    s = settings
    h = hashlib.sha256(repr([s.text_col, s.id_col, s.name_pattern, s.encoding, s.bylines, s.sheet,
                             list(s.year_cols), s.clean_web, list(map(str, s.sources)),
                             library_versions(READING_LIBRARIES)]).encode())
    try:
        for root in [Path(p) for p in s.sources] or [default_seed_dir()]:
            for path, problem in walk_files(root):
                h.update(f"\0{path}\0{problem}\0{file_sha256(path) if problem is None else ''}".encode(
                    "utf-8", "surrogatepass"))
        if s.sidecar:
            h.update(f"\0sidecar {Path(s.sidecar).resolve()} {file_sha256(s.sidecar)}".encode("utf-8", "surrogatepass"))
    except (OSError, ZhiliError):
        return None
    h.update(code_digest().encode())
    return h.hexdigest()


def cached_ingest(settings: RunSettings) -> tuple[Corpus, bool]:
    """:func:`ingest` with ``spill=True`` through the step cache, and whether it was reused: the
    documents' variables, log, inputs and notes as Parquet (:func:`cached_tables`) and their texts
    as one file beside them (:func:`zhili.textstore.save_store`), read in place when reused. Texts
    that are missing or not as written (SHA-256) are read from the sources again."""
    from .textstore import open_store, save_store
    from .tokens import _cache_dir

    key = ingest_key(settings)
    if key is None:
        return ingest(settings, spill=True), False
    made: list[Corpus] = []

    def compute() -> dict[str, pd.DataFrame]:
        made.append(ingest(settings, spill=True))
        c = made[0]
        return {"docs": c.docs, "log": c.log, "inputs": pd.DataFrame({"json": [json.dumps(i) for i in c.inputs]}),
                "notes": pd.DataFrame({"note": c.warnings}, dtype=object)}

    tables, hit = cached_tables("ingest", key, compute)
    texts = _cache_dir(True) / "steps" / "ingest" / key / "texts.utf8"
    store = open_store(texts, len(tables["docs"])) if hit else None
    if store is not None:
        return Corpus(docs=tables["docs"], log=tables["log"], inputs=[json.loads(i) for i in tables["inputs"]["json"]],
                      warnings=list(tables["notes"]["note"]), store=store), True
    c = made[0] if made else ingest(settings, spill=True)
    try:
        save_store(c.iter_texts(), texts)
    except OSError:  # an unwritable cache only costs time
        pass
    return c, False


def code_digest() -> str:
    """SHA-256 of zhili's code and data files (part of the cache keys of steps whose code spans
    several modules: any change to zhili makes them again)."""
    package = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted([*package.glob("*.py"), *(package / "data").rglob("*")]):
        if path.is_file():
            h.update(b"\0" + path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def to_units(documents: Corpus, settings: RunSettings) -> Corpus:
    """The units of analysis (``settings.unit``); each keeps ``doc_id``, ``position`` and the docvars.

    >>> int(to_units(ingest(RunSettings()), RunSettings(unit="paragraph")).docs["position"].min())
    1
    """
    return documents.reshape(settings.unit)


def tokenize(units: Corpus, settings: RunSettings, progress: bool | None = None, client: Any = None) -> Tokens:
    """Normalise, segment (cached) and filter the units with the run's segmenter and filter, on the
    Dask cluster of ``client`` when one is given (:mod:`zhili.dask_engine`; the same tokens).

    >>> "网格化" in tokenize(ingest(RunSettings()), RunSettings(cache=False)).vocab
    True
    """
    return settings.tokenize(units, progress, client)


def count(documents: Corpus, toks: Tokens) -> tuple[DTM, dict[str, pd.DataFrame]]:
    """The document-term matrix and the ``documents`` and ``terms`` tables.

    >>> s = RunSettings(cache=False)
    >>> docs = ingest(s)
    >>> d, tables = count(docs, tokenize(docs, s))
    >>> tables["terms"].loc[0, "term"]
    '社会治理'
    """
    counts = dtm(toks)
    return counts, {"documents": documents_table(documents, toks), "terms": term_frequencies(counts)}


def web_cleaning_summary(documents: pd.DataFrame, settings: RunSettings) -> dict:
    """What web-text cleaning did, for the manifest: characters removed per step (the ``removed_*``
    columns of ``documents``) and how many documents took their year from a meta line's
    publication date (``year_from == 'meta_line'``) because their source had none.

    >>> web_cleaning_summary(pd.DataFrame({"removed_pinyin": [3, 0], "year_from": ["meta_line", None]}),
    ...                      RunSettings())
    {'on': True, 'removed_characters': {'pinyin': 3}, 'years_from_meta_line': 1}
    """
    removed = {c[len("removed_"):]: int(pd.to_numeric(documents[c], errors="coerce").fillna(0).sum())
               for c in documents.columns if str(c).startswith("removed_")}
    from_meta = int((documents["year_from"] == "meta_line").sum()) if "year_from" in documents else 0
    return {"on": settings.clean_web, "removed_characters": removed, "years_from_meta_line": from_meta}


def whole_documents(units: Corpus) -> tuple[Sequence[str], list[str], pd.DataFrame]:
    """Texts, ids and docvars of whole documents, rebuilt from the units (paragraphs joined by
    newlines): :meth:`zhili.corpus.Corpus.whole_documents`.

    >>> texts, ids, docvars = whole_documents(to_units(ingest(RunSettings()), RunSettings(unit="paragraph")))
    >>> len(texts), list(docvars.columns[:1])
    (1, ['doc_id'])
    """
    return units.whole_documents()


def formulation_tables(units: Corpus, settings: RunSettings) -> dict[str, pd.DataFrame]:
    """``formulations`` (numbered formulations and key phrases, per ``settings.by`` group) and
    ``formulation_examples`` (KWIC lines), over whole documents.

    >>> sorted(formulation_tables(ingest(RunSettings()), RunSettings()))
    ['formulation_examples', 'formulations']
    """
    from . import formulations
    from .segment import SegmenterConfig

    s = settings
    config = SegmenterConfig(s.segmenter, True, s.lexicon, s.places, tuple(map(str, s.user_dicts)))
    by_vars = [v for v in s.by if v in units.docs.columns]
    return formulations.formulation_tables(units, by=by_vars, segmenter=config, cache=s.cache, n_jobs=s.n_jobs)


def formulations_key(units: Corpus, settings: RunSettings, fingerprint: str) -> str:
    """The cache key of :func:`formulation_tables`: the documents, their variables, ``by``, the
    segmenter fingerprint and the code of :mod:`zhili.formulations`."""
    h = hashlib.sha256()  # unit by unit: the texts are never joined or encoded whole
    for doc_id, position, text in zip(units.docs["doc_id"], units.docs["position"], units.iter_texts()):
        h.update(f"{doc_id}\0{position}\0".encode("utf-8", "surrogatepass"))
        h.update(hashlib.sha256(text.encode("utf-16-le", "surrogatepass")).digest())
    docvars = units.docs.drop(columns=["text", "position"], errors="ignore").drop_duplicates("doc_id")
    for part in (docvars.to_csv(), repr(list(settings.by)), fingerprint,
                 Path(__file__).with_name("formulations.py").read_text(encoding="utf-8")):
        h.update(b"\0" + part.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def cached_tables(step: str, key: str, compute: Callable[[], dict[str, pd.DataFrame]]
                  ) -> tuple[dict[str, pd.DataFrame], bool]:
    """The tables of ``step`` from the on-disk cache (``$ZHILI_CACHE_DIR/steps``) and ``True``, or
    computed, stored there and ``False``. Only Parquet and JSON are read (no code can be loaded):
    columns of Python objects (such as years in a ``group`` column) are named in ``tables.json`` with
    their missing value and made objects again; tables that do not come back exactly as they were are not stored, and an
    unreadable entry, or one whose files are not the bytes stored (SHA-256 in ``tables.json``), is recomputed. The ZhiliWarnings of ``compute`` are stored too and given again
    when the tables are reused, so ``run.log`` is the same."""
    from .tokens import _cache_dir

    folder = _cache_dir(True) / "steps" / step / key
    index = folder / "tables.json"
    try:
        meta = json.loads(index.read_text(encoding="utf-8"))
        if meta["key"] != f"{step}/{key}":  # a folder copied under another key
            raise ValueError("the entry of another key")
        for n in meta["tables"]:
            if file_sha256(folder / f"{n}.parquet") != meta["sha256"][n]:
                raise ValueError(f"{n}.parquet is not the file stored")
        tables = {n: _read_cached(folder / f"{n}.parquet", meta["objects"].get(n, {})) for n in meta["tables"]}
        for message in meta.get("warnings", []):
            warnings.warn(str(message), ZhiliWarning, stacklevel=2)
        return tables, True
    except (OSError, ValueError, TypeError, KeyError, AttributeError, ImportError):
        pass
    except Exception:  # pyarrow raises its own errors on a corrupt or planted file
        pass
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        tables = compute()
    for w in got:  # to whoever records or shows them, as if not caught here
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        objects = {n: _object_columns(df) for n, df in tables.items()}
        for n, df in tables.items():
            with replacing(folder / f"{n}.parquet", durable=False) as tmp:
                df.to_parquet(tmp, index=False)
            pd.testing.assert_frame_equal(_read_cached(folder / f"{n}.parquet", objects[n]), df.reset_index(drop=True))
        meta = {"key": f"{step}/{key}", "tables": list(tables), "objects": objects,
                "sha256": {n: file_sha256(folder / f"{n}.parquet") for n in tables},
                "warnings": [str(w.message) for w in got if issubclass(w.category, ZhiliWarning)]}
        with replacing(index, durable=False) as tmp:
            tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    except Exception:  # not exactly storable, or the cache folder is unwritable: just do not cache
        pass
    return tables, False


_MISSING = {"None": None, "NA": pd.NA, "nan": np.nan}


def _object_columns(df: pd.DataFrame) -> dict[str, str]:
    """The object columns of ``df`` and what each holds for a missing value ('None', 'NA' or 'nan')."""
    out = {}
    for c in df.columns:
        if df[c].dtype == object:
            missing = df[c].isna().to_numpy()
            first = df[c].to_numpy()[missing.argmax()] if missing.any() else np.nan
            out[c] = "None" if first is None else "NA" if first is pd.NA else "nan"
    return out


def _read_cached(path: Path, objects: dict[str, str]) -> pd.DataFrame:
    """A cached table with its object columns (:func:`_object_columns`) as they were."""
    table = pd.read_parquet(path)
    for c, missing in objects.items():
        column = table[c].astype(object)
        table[c] = column.where(column.notna(), _MISSING[missing])
    return table


def coword_network(units: Corpus, toks: Tokens | None, settings: RunSettings, counts: DTM | None = None
                   ) -> CowordNetwork | None:
    """Ochiai co-word network of the most frequent terms; over paragraphs when there are fewer than
    ``COWORD_MIN_DOCS`` documents. ``None`` (with a log line) when there is too little to connect.
    ``counts``, the run's ``dtm(toks)`` when it is already made, is used instead of counting again.

    >>> s = RunSettings(cache=False)
    >>> docs = ingest(s)
    >>> len(coword_network(docs, tokenize(docs, s), s).nodes)
    100
    """
    from .coword import coword

    window, data = "document", counts if counts is not None else toks
    if units.docs["doc_id"].nunique() < COWORD_MIN_DOCS:  # too few documents to co-occur in: use paragraphs
        window, data = "paragraph", toks if toks is not None else counts
        if units.unit == "document":
            data = settings.count(units.reshape("paragraph"), progress=False)
    try:
        return coword(data, n_terms=COWORD_TERMS, window=window, random_state=settings.random_state)
    except ZhiliError as exc:
        log.warning("co-word network skipped: %s", exc)
        return None


def analysis_dtm(d: DTM, settings: RunSettings) -> DTM:
    """The trimmed matrix that topic models use. ``min_df=None``: 5 units, or 2 below
    ``SMALL_CORPUS`` units (measured: 5 recovers labelled topics best on real corpora).

    >>> s = RunSettings(cache=False)
    >>> d = count(*(lambda c: (c, tokenize(c, s)))(to_units(ingest(s), RunSettings(unit="paragraph"))))[0]
    >>> analysis_dtm(d, s).meta["trim"]["min_df"]
    2
    """
    s = settings
    min_df = s.min_df if s.min_df is not None else (5 if d.shape[0] >= SMALL_CORPUS else 2)
    return dtm_trim(d, min_df=min_df, max_df=s.max_df, max_features=s.max_features)


def fit_topics(d: DTM, settings: RunSettings) -> TopicModel:
    """The topic model of the run (``settings.topics`` K or 'auto') on :func:`analysis_dtm`.

    >>> s = RunSettings(unit="paragraph", topics=3, cache=False)
    >>> units = to_units(ingest(s), s)
    >>> fit_topics(count(units, tokenize(units, s))[0], s).n_topics_
    3
    """
    from .topics import TopicModel

    k, n_units = settings.topics, d.shape[0]
    if isinstance(k, int) and not isinstance(k, bool):
        if k < 2:
            raise ZhiliError(E.E040, k=k)
        if n_units < 2 * k:  # before trimming, which would fail less helpfully
            raise ZhiliError(E.E041, n_docs=n_units, k=k)
    covariates = settings.effects if settings.topic_method == "dmr" else None  # the formula's variables shape the fit
    return TopicModel(n_topics=k, method=settings.topic_method, themes=settings.themes or None,
                      random_state=settings.random_state, n_jobs=settings.n_jobs,
                      covariates=covariates, idf_by=settings.idf_by).fit(analysis_dtm(d, settings))


def topic_tables(model: TopicModel, units: Corpus) -> dict[str, pd.DataFrame]:
    """``topics``, ``doc_topics``, ``topic_terms``, ``topic_passages`` (and ``k_search`` after 'auto')."""
    tables = {"topics": model.topics_table(), "doc_topics": model.doc_topics_table(),
              "topic_terms": model.topic_terms_table(), "topic_passages": model.representative_passages(units)}
    if getattr(model, "k_search_", None) is not None:
        tables["k_search"] = model.k_search_.table
    return tables


def effect_tables(model: TopicModel, settings: RunSettings) -> tuple[dict[str, pd.DataFrame], dict]:
    """``topic_effects`` and ``topic_effects_expected`` of ``settings.effects`` (see
    :func:`zhili.effects.topic_effects`), and the effects' settings for the manifest.

    >>> from zhili.corpus import corpus_from_texts
    >>> s = RunSettings(topics=2, effects="year", cache=False)
    >>> paragraphs = to_units(ingest(s), RunSettings(unit="paragraph")).docs["text"]
    >>> units = corpus_from_texts(paragraphs, docvars={"year": [2010 + i % 6 for i in range(len(paragraphs))]})
    >>> tables, info = effect_tables(fit_topics(count(units, tokenize(units, s))[0], s), s)
    >>> sorted(tables), info["formula"]
    (['topic_effects', 'topic_effects_expected'], 'year')
    """
    from .effects import topic_effects

    fx = topic_effects(model, settings.effects, random_state=settings.random_state)
    return {"topic_effects": fx.table, "topic_effects_expected": fx.expected}, fx.settings


def comparison_tables(d: DTM, settings: RunSettings, model: TopicModel | None = None,
                      terms: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Per ``settings.by`` variable: ``keyness`` (trimmed by :func:`top_keyness`), ``topic_prevalence``
    (with a model) and, for ``year``, ``term_trends`` of the most frequent terms.

    >>> s = RunSettings(by=["city"], cache=False)
    >>> docs = ingest(RunSettings(sources=[]))
    >>> sorted(comparison_tables(count(docs, tokenize(docs, s))[0], RunSettings(by=[])))
    []
    """
    return {**term_comparison_tables(d, settings, terms), **topic_comparison_tables(model, settings)}


def term_comparison_tables(d: DTM, settings: RunSettings, terms: pd.DataFrame | None = None
                           ) -> dict[str, pd.DataFrame]:
    """The tables of :func:`comparison_tables` that need no topic model (the same for every K):
    ``keyness`` and, by ``year``, ``term_trends`` of the ``TREND_TERMS`` most frequent terms."""
    from .compare import term_trends
    from .keyness import keyness

    if not settings.by:
        return {}
    key = [keyness(d, by=var, exclude_places=settings.exclude_places) for var in settings.by]
    tables = {"keyness": top_keyness(pd.concat(key, ignore_index=True), settings.keyness_terms)}
    if "year" in settings.by:
        tables["term_trends"] = term_trends(d, _trend_terms(d, terms), by="year")
    return tables


def topic_comparison_tables(model: TopicModel | None, settings: RunSettings) -> dict[str, pd.DataFrame]:
    """``topic_prevalence`` of ``model`` per ``settings.by`` variable (nothing without a model)."""
    from .compare import compare_topics

    if model is None or not settings.by:
        return {}
    return {"topic_prevalence": pd.concat([compare_topics(model, by=var, random_state=settings.random_state)
                                           for var in settings.by], ignore_index=True)}


def _trend_terms(d: DTM, terms: pd.DataFrame | None) -> list[str]:
    return (terms if terms is not None else term_frequencies(d))["term"].head(TREND_TERMS).tolist()


def comparison_key(d: DTM, settings: RunSettings, terms: pd.DataFrame | None = None) -> str:
    """The cache key of :func:`term_comparison_tables`: the matrix, its vocabulary and document
    variables, the settings it reads (``by``, ``exclude_places`` as the names it excludes,
    ``keyness_terms``), the trend terms and zhili's code (:func:`code_digest`)."""
    from .io import table_digest

    m = d.matrix.tocsr()
    h = hashlib.sha256(f"{m.shape}|{m.dtype}|{m.indices.dtype}|{m.indptr.dtype}".encode())
    for array in (m.data, m.indices, m.indptr):
        h.update(np.ascontiguousarray(array).tobytes())
    places = settings.exclude_places
    if places is True:
        from .lexicon import excluded_places

        places = sorted(excluded_places())
    parts = ["\0".join(map(str, d.vocabulary)), table_digest(d.docvars), repr(list(settings.by)), repr(places),
             repr(settings.keyness_terms), repr(_trend_terms(d, terms) if "year" in settings.by else None),
             code_digest()]
    for part in parts:
        h.update(b"\0" + part.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def dictionary_tables(d: DTM, settings: RunSettings) -> dict[str, pd.DataFrame]:
    """``dictionary``: category counts and rates of ``settings.dictionary`` (nothing without one)."""
    if not settings.dictionary:
        return {}
    from .dictionary import code_dictionary

    return {"dictionary": code_dictionary(d, settings.dictionary, by=settings.by or None)}


def write_results(result: RunResult, folder: Path) -> dict[str, Path]:
    """Write the tables, ``run.log``, the co-word GraphML, the model and ``manifest.json`` (with the
    size and SHA-256 of every file) into ``folder``; return the paths relative to it. With the
    cache on, tables written before with the same content are copied from it (:class:`zhili.io.TableCache`)."""
    from .tokens import _cache_dir

    cache = TableCache(_cache_dir(True) / "tables") if result.settings.cache else None
    written = write_tables(result.frames, folder / "tables", cache=cache)
    if cache is not None and cache.reused:
        result.manifest.setdefault("reused", []).append(f"written tables ({', '.join(cache.reused)})")
    write_log(folder, result.documents, result.warnings, result.manifest)
    if result.coword is not None:
        written["coword_graphml"] = result.coword.write_graphml(folder / "tables" / "coword.graphml")
    if result.model is not None:
        result.model.save(folder / "model")
    rel = {k: p.relative_to(folder) for k, p in written.items()}
    result.manifest["tables"] = {k: str(p) for k, p in rel.items()}
    result.manifest["files"] = file_digests(folder, exclude=("manifest.json", "report.html"))
    result.manifest["threads"] = math_threads()  # the libraries the analysis loaded, at the end
    write_json(result.manifest, folder / "manifest.json")
    return rel


# ---- the run: an ordered list of steps, timed by one helper ----

def _ingest(r: RunResult, folder: Path, progress: bool | None) -> None:
    if r.settings.cache:  # memory does not grow with the texts (spilled), and a rerun reads them in place
        r.documents, hit = cached_ingest(r.settings)
        if hit:
            r.manifest.setdefault("reused", []).append("ingest")
    else:
        r.documents = ingest(r.settings, spill=True)
    r.manifest["inputs"] = r.documents.inputs
    if not len(r.documents.docs):
        write_log(folder, r.documents, [], None)
        if not len(r.documents.log):
            raise ZhiliError(E.E018, sources=", ".join(map(str, r.settings.sources)) or "the seed")
        raise ZhiliError(E.E016, n=len(r.documents.log))


def _units(r: RunResult, folder: Path, progress: bool | None) -> None:
    r.units = to_units(r.documents, r.settings)
    if r.settings.effects is not None:  # a formula naming a missing variable fails before any analysis
        from .effects import check_variables

        check_variables(r.settings.effects, r.units.docs)
    if r.settings.idf_by is not None:  # an unknown variable fails before any analysis
        from .topics import check_idf_by

        check_idf_by(r.settings.idf_by, r.units.docs.columns)


def discover_phrases(units: Corpus, settings: RunSettings) -> tuple[list[str], pd.DataFrame]:
    """``--discover-phrases``: multi-word terms the run's segmenter splits, proposed for this run
    (:func:`zhili.phrases.propose_terms` with the run's dictionaries), and the table of every
    scored phrase (``proposed``, ``reason``).

    >>> terms, table = discover_phrases(ingest(RunSettings()), RunSettings(cache=False))
    >>> {"proposed", "reason"} <= set(table.columns)
    True
    """
    from .phrases import propose_terms

    s = settings
    return propose_terms(units, segmenter=s.segmenter, lexicon=s.lexicon, places=s.places,
                         user_dicts=s.user_dicts, cache=s.cache, n_jobs=s.n_jobs)


def _phrases(r: RunResult, folder: Path, progress: bool | None) -> None:
    from .phrases import to_user_dict

    terms, table = discover_phrases(r.units, r.settings)
    r.frames["phrases"] = table
    r.manifest["phrases"] = {"proposed": terms, "user_dict": "phrases.txt" if terms else None}
    if terms:  # the rest of the run segments with them (run() puts the given settings back)
        path = to_user_dict(table[table["proposed"]], folder / "phrases.txt")
        r.settings = replace(r.settings, user_dicts=[*r.settings.user_dicts, str(path)])


def _segment(r: RunResult, folder: Path, progress: bool | None) -> None:
    # normalise, segment, filter and count in one pass, round by round: the run never holds its tokens
    s = r.settings
    if s.engine == "dask":  # the cluster starts only when a shard is not in the cache
        from .dask_engine import LazyCluster

        with LazyCluster(s.scheduler, s.n_jobs) as lazy:
            r.manifest["engine"] = lazy.record
            r.dtm = s.count(r.units, progress, lazy)
    else:
        r.manifest["engine"] = {"engine": "local", "n_jobs": s.n_jobs}
        r.dtm = s.count(r.units, progress)
    r.manifest["segmenter"] = {k: r.dtm.meta[k] for k in ("backend", "segmenter_fingerprint", "cache")}


def _count(r: RunResult, folder: Path, progress: bool | None) -> None:
    c, d = r.documents, r.dtm
    tables = {"documents": documents_table(c, d), "terms": term_frequencies(d)}
    r.frames.update(tables)
    r.manifest["counts"] = {"in": len(c.log), "analysed": int((c.log["status"] == "analysed").sum()),
                            "skipped": int((c.log["status"] == "skipped").sum()), "units": len(r.units),
                            "unit": r.settings.unit, "tokens": int(d.matrix.sum()), "types": len(d.vocabulary)}
    r.manifest["web_cleaning"] = web_cleaning_summary(tables["documents"], r.settings)
    if tables["terms"].empty and r.manifest["counts"]["analysed"]:
        s = r.settings
        warnings.warn(warning_text(W.W130, n=r.manifest["counts"]["analysed"], stopwords=s.stopwords,
                                   min_chars=s.min_chars, pos=",".join(s.pos) if s.pos else "all"),
                      ZhiliWarning, stacklevel=2)


def _formulations(r: RunResult, folder: Path, progress: bool | None) -> None:
    if not r.settings.cache:
        r.frames.update(formulation_tables(r.units, r.settings))
        return
    key = formulations_key(r.units, r.settings, r.dtm.meta.get("segmenter_fingerprint", ""))
    tables, hit = cached_tables("formulations", key, lambda: formulation_tables(r.units, r.settings))
    r.frames.update(tables)
    if hit:
        r.manifest.setdefault("reused", []).append("formulations")


def _coword(r: RunResult, folder: Path, progress: bool | None) -> None:
    r.coword = coword_network(r.units, r.tokens, r.settings, r.dtm)
    if r.coword is not None:
        r.frames["coword_nodes"], r.frames["coword_edges"] = r.coword.nodes, r.coword.edges
        r.manifest["coword"] = r.coword.params


def _topics(r: RunResult, folder: Path, progress: bool | None) -> None:
    r.model = fit_topics(r.dtm, r.settings)
    r.frames.update(topic_tables(r.model, r.units))
    if getattr(r.model, "k_search_", None) is not None:
        r.manifest["k_search"] = {"recommended_k": r.model.k_search_.recommended_k, "reason": r.model.k_search_.reason}


def _effects(r: RunResult, folder: Path, progress: bool | None) -> None:
    tables, r.manifest["effects"] = effect_tables(r.model, r.settings)
    r.frames.update(tables)


def _compare(r: RunResult, folder: Path, progress: bool | None) -> None:
    s, terms = r.settings, r.frames["terms"]
    if s.cache:
        tables, hit = cached_tables("comparisons", comparison_key(r.dtm, s, terms),
                                    lambda: term_comparison_tables(r.dtm, s, terms))
        if hit:
            r.manifest.setdefault("reused", []).append(f"comparisons ({', '.join(tables)})")
    else:
        tables = term_comparison_tables(r.dtm, s, terms)
    r.frames.update(tables)
    r.frames.update(topic_comparison_tables(r.model, s))


def _dictionary(r: RunResult, folder: Path, progress: bool | None) -> None:
    r.frames.update(dictionary_tables(r.dtm, r.settings))


def _write(r: RunResult, folder: Path, progress: bool | None) -> None:
    r.warnings = list(dict.fromkeys([*r.documents.warnings, *r.units.warnings, *r.warnings]))
    r.tables = {k: r.out / p for k, p in write_results(r, folder).items()}


def _report(r: RunResult, folder: Path, progress: bool | None) -> None:
    from .report import FigureCache, write_report
    from .tokens import _cache_dir

    figures = FigureCache(_cache_dir(True) / "figures") if r.settings.cache else None
    write_report(folder, figures=figures)
    if figures is not None and figures.reused:
        r.manifest.setdefault("reused", []).append(f"report figures ({figures.reused} of "
                                                   f"{figures.reused + figures.drawn})")
    r.tables["report"] = r.out / "report.html"
    r.manifest["tables"]["report"] = "report.html"


@dataclass(frozen=True)
class Step:
    """One step of the run: its name in the manifest's timings, what it does, when it runs, and
    whether its warnings belong in ``run.log``."""

    name: str
    do: Callable[..., None]
    when: Callable[[RunSettings], bool] = lambda s: True
    logged: bool = False


STEPS: tuple[Step, ...] = (
    Step("ingest", _ingest),
    Step("units", _units),
    Step("phrases", _phrases, lambda s: s.discover_phrases, logged=True),
    Step("segment", _segment),
    Step("count", _count, logged=True),
    Step("formulations", _formulations, logged=True),
    Step("coword", _coword, logged=True),
    Step("topics", _topics, lambda s: s.topics is not None, logged=True),
    Step("effects", _effects, lambda s: s.effects is not None and s.topics is not None, logged=True),
    Step("compare", _compare, lambda s: bool(s.by), logged=True),
    Step("dictionary", _dictionary, lambda s: bool(s.dictionary), logged=True),
    Step("write_tables", _write),
    Step("report", _report, lambda s: s.report),
)


@contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Record the seconds a block took under ``timings[name]`` (the one timer of the run)."""
    t = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - t, 3)


def run(settings: RunSettings | None = None, progress: bool | None = None) -> RunResult:
    """Run every step of :data:`STEPS` and write the results folder ``settings.out``.

    The folder is checked before any analysis (E123 not writable, E124 full disk, E127 not a
    results folder), built beside the old one and swapped in when finished: a failed or killed
    run leaves the previous results as they were.
    """
    s = settings or RunSettings()
    if s.effects is not None:  # a formula that cannot be read, or no model to read it on, fails at once
        from .effects import parse_formula

        if s.topics is None:
            raise ZhiliError(E.E144)
        parse_formula(s.effects)
    if s.topic_method == "dmr" and s.topics is not None:
        from .dmr import import_tomotopy

        if s.effects is None:
            raise ZhiliError(E.E146, detail="--topic-method dmr needs --effects FORMULA (its variables are the "
                                            "model's covariates)")
        import_tomotopy()
    if s.idf_by is not None and (s.topics is None or s.topic_method not in ("auto", "nmf")):
        raise ZhiliError(E.E147, detail="it weighs the terms of an NMF topic model; add --topics K" if s.topics is None
                         else f"--topic-method {s.topic_method} is fitted on counts; use --topic-method nmf")
    target = Path(s.out)
    check_target(target, s.sources)
    check_engine(s.engine, s.scheduler)
    result = RunResult(settings=s, out=target, manifest=new_manifest(command_line(), asdict(s)))
    timings = result.manifest["timings"]
    with building(target) as staging:
        for step in STEPS:
            if step.when(s):
                with timed(timings, step.name), _recording(result.warnings if step.logged else None):
                    step.do(result, staging.path, progress)
        write_json(result.manifest, staging.path / "manifest.json")  # with the timings of writing and report
    result.settings = s  # as given (a step may have added this run's phrase dictionary)
    return result


@contextmanager
def _recording(into: list[str] | None) -> Iterator[None]:
    """Collect the ZhiliWarnings of a block into ``into`` (for run.log); ``None``: leave them alone."""
    if into is None:
        yield
        return
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always", ZhiliWarning)
        yield
    into.extend(str(w.message) for w in got if issubclass(w.category, ZhiliWarning))


def verify_results(folder: str | Path) -> dict:
    """The manifest of a results folder whose files match it (E060 no manifest, E126 a table or model
    file missing, changed or not recorded — e.g. left by another run)."""
    from .report import read_manifest

    folder = Path(folder)
    manifest = read_manifest(folder)
    if "files" not in manifest:  # written before files were recorded: nothing to compare
        return manifest
    recorded = manifest["files"]
    if not isinstance(recorded, dict) or not all(isinstance(v, dict) and "sha256" in v for v in recorded.values()):
        raise ZhiliError(E.E126, path=folder, detail="its 'files' record is not a map of file names to digests")
    found = file_digests(folder, exclude=("manifest.json", "report.html"))
    for rel in sorted(set(recorded) | set(found)):
        if rel not in found:
            raise ZhiliError(E.E126, path=folder, detail=f"'{rel}' is missing")
        if rel not in recorded:
            raise ZhiliError(E.E126, path=folder, detail=f"'{rel}' is not part of this run")
        if found[rel] != recorded[rel]:
            raise ZhiliError(E.E126, path=folder, detail=f"'{rel}' was changed after the run")
    return manifest


def top_keyness(table: pd.DataFrame, n: int = 200, alpha: float = 0.05) -> pd.DataFrame:
    """Per group, the ``n`` strongest over-used and ``n // 4`` strongest under-used terms with
    ``p_adj < alpha`` — the full table (every term x group) belongs in a notebook, not a CSV."""
    sig = table[table["p_adj"] < alpha]
    over = sig[sig["g2"] > 0].groupby(["by", "group"], sort=False, group_keys=False).head(n)
    under = sig[sig["g2"] < 0].groupby(["by", "group"], sort=False, group_keys=False).head(n // 4)
    return pd.concat([over, under]).sort_index(kind="stable").reset_index(drop=True)


def documents_table(c: Corpus, toks: Tokens | DTM) -> pd.DataFrame:
    """One row per input document: ``doc_id, source, status, reason, n_chars, n_tokens`` + docvars
    (``n_tokens`` from the units' tokens or their counts)."""
    n_per_unit = toks.n_tokens if isinstance(toks, Tokens) else matrix_sums(toks.matrix, axis=1)
    per_unit = pd.DataFrame({"doc_id": toks.docvars["doc_id"].to_numpy(), "n_tokens": n_per_unit})
    n_tokens = per_unit.groupby("doc_id", sort=False)["n_tokens"].sum()
    table = c.document_table()
    if "n_tokens" in table.columns:  # a source column of that name keeps its values under another name
        new = _free_name(table.columns, "n_tokens_original")
        warnings.warn(f"the source column 'n_tokens' is kept as '{new}' in documents.csv; 'n_tokens' is zhili's "
                      "count of analysed tokens", ZhiliWarning, stacklevel=2)
        table = table.rename(columns={"n_tokens": new})
    analysed = pd.Series(c.log["status"].to_numpy() == "analysed", index=table.index) if len(table) == len(c.log) \
        else table["status"] == "analysed"
    table.insert(len(LOG_COLUMNS), "n_tokens", table["doc_id"].map(n_tokens).where(analysed).astype("Int64"))
    return table


def _free_name(taken, name: str) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}_{i}", i + 1
    return out


def write_log(folder: Path, c: Corpus, warnings_: list[str], manifest: dict | None) -> Path:
    """``run.log``: every skipped document with its reason, every warning, and what was reused from
    the cache (also logged: skipped documents and warnings as warnings, reuse as information)."""
    lines = [f"skipped\t{r.doc_id}\t{r.source}\t{r.reason}" for r in c.log.itertuples() if r.status == "skipped"]
    lines += [f"warning\t{w}" for w in warnings_]
    for line in lines:
        log.warning(line.replace("\t", " "))
    reused = (manifest or {}).get("segmenter", {}).get("cache")
    notes = [f"segmentation reused from the on-disk cache: {reused}"] if reused and not str(reused).startswith("0 of") else []
    notes += [f"{step} reused from the on-disk cache" for step in (manifest or {}).get("reused", [])]
    for note in notes:
        lines.append(f"cache\t{note}")
        log.info(note)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "run.log"
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return path


def load_config(path: str | Path) -> list[RunSettings]:
    """Analyses from a TOML file: top-level keys are defaults, each ``[[analysis]]`` table
    one run (``name`` names its output folder inside ``zhili-results/``). Paths are relative to
    the file. Keys and types are those of :class:`RunSettings` (E061 unknown key, E120 wrong
    type, E121 a name that leaves the results folder, E122 a name used twice, E132 an ``out`` inside an
    ``[[analysis]]``: its folder is ``name``, inside the top-level ``out`` or ``--out``).

    >>> import tempfile, pathlib
    >>> cfg = pathlib.Path(tempfile.mkdtemp()) / "run.toml"
    >>> _ = cfg.write_text('unit = "paragraph"\\n[[analysis]]\\nname = "seed"\\n', encoding="utf-8")
    >>> [(s.unit, Path(s.out).name) for s in load_config(cfg)]
    [('paragraph', 'seed')]
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    from .settings import TOML_ALIASES

    path = Path(path)
    if not path.is_file():
        raise ZhiliError(E.E001, path=path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ZhiliError(E.E062, path=path, detail=exc) from None
    known = set(FIELDS) | set(TOML_ALIASES)
    batch = "analysis" in config
    analyses = config.pop("analysis", [{}])
    if not isinstance(analyses, list) or not all(isinstance(a, dict) for a in analyses):
        raise ZhiliError(E.E062, path=path, detail="'analysis' must be an array of tables: [[analysis]]")
    for key in [*config, *(k for a in analyses for k in a if k != "name")]:
        if key not in known:
            raise ZhiliError(E.E061, path=path, key=key, known=", ".join(sorted(set(FIELDS) | {"name", "analysis"})))
    base = path.parent
    defaults = from_toml_table(config, str(path))
    runs, seen = [], {}
    for i, spec in enumerate(analyses, start=1):
        spec = dict(spec)
        name = _analysis_name(spec.pop("name", f"analysis{i}"), path)
        if "out" in spec:  # a folder of its own would bypass the name check (E121): '../../etc', '/tmp/x'
            raise ZhiliError(E.E132, name=name, path=path, out=spec["out"])
        merged = {**defaults, **from_toml_table(spec, str(path))}
        # with [[analysis]] tables a top-level out is the results folder their folders go in (like --out)
        merged["out"] = str(Path(defaults.get("out", "zhili-results")) / name) if batch \
            else merged.get("out", str(Path("zhili-results") / name))
        for key in ("out", "sidecar", "dictionary"):
            if merged.get(key):
                merged[key] = str(base / merged[key])
        for key in ("sources", "user_dicts"):
            merged[key] = [str(base / p) for p in merged.get(key, [])]
        out = str(Path(merged["out"]).resolve())
        if out in seen:
            raise ZhiliError(E.E122, name=name, path=path)
        seen[out] = name
        runs.append(RunSettings(**merged))
    return runs


def _analysis_name(name: Any, path: Path) -> str:
    """A batch name is one plain folder name: no '..', no absolute path, no separator."""
    if not isinstance(name, str):
        raise ZhiliError(E.E120, key="name", expected="a string", value=name)
    bad = (not name.strip() or name in (".", "..") or "/" in name or "\\" in name or Path(name).is_absolute()
           or ":" in name or "\0" in name)
    if bad:
        raise ZhiliError(E.E121, name=name, path=path)
    return name
