"""The main job: ``run(RunSettings(...))`` ingests, segments, counts and writes a results folder.

The folder holds ``manifest.json`` (versions, settings, input hashes, counts, timings),
``run.log`` (every skipped document and warning) and tidy tables under ``tables/``.

>>> import tempfile
>>> res = run(RunSettings(out=tempfile.mkdtemp(), cache=False, report=False))
>>> res.manifest["counts"]["analysed"]
1
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pandas as pd

from .corpus import LOG_COLUMNS, Corpus, corpus
from .dtm import DTM, dtm, dtm_trim, term_frequencies, write_table
from .errors import E, ZhiliError, ZhiliWarning
from .files import replacing
from .manifest import command_line, new_manifest, write_json
from .tokens import TokenFilter, Tokens, tokens

log = logging.getLogger("zhili")
EXCEL_MAX_ROWS = 1_048_575
COWORD_MIN_DOCS = 20
SMALL_CORPUS = 200
TREND_TERMS = 30  # the most frequent terms get a per-year rate table with intervals


@dataclass
class RunSettings:
    """Every setting of a run; the manifest records all of them.

    >>> RunSettings(sources=["reports/"], unit="paragraph").unit
    'paragraph'
    """

    sources: list[str] = field(default_factory=list)
    out: str = "zhili-results"
    unit: str = "document"
    text_col: str = "text"
    id_col: str | None = None
    name_pattern: str | None = None
    sidecar: str | None = None
    encoding: str | None = None
    bylines: bool = True
    segmenter: str = "auto"
    user_dicts: list[str] = field(default_factory=list)
    lexicon: bool = True
    places: bool = True
    stopwords: str = "all"
    extra_stopwords: list[str] = field(default_factory=list)
    min_chars: int = 2
    pos: list[str] | None = None
    synonyms: bool = True
    min_df: int | float | None = None
    max_df: int | float = 0.95
    max_features: int | None = 20000
    topics: int | str | None = None
    topic_method: str = "auto"
    themes: dict[str, list[str]] = field(default_factory=dict)
    random_state: int = 42
    by: list[str] = field(default_factory=list)
    dictionary: str | None = None
    exclude_places: bool = True
    keyness_terms: int = 200
    n_jobs: int = 1
    cache: bool = True
    report: bool = True

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def tokenize(self, units: Corpus, progress: bool | None = None) -> Tokens:
        """:func:`~zhili.tokens.tokens` with this run's segmenter, dictionaries, filter and cache."""
        return tokens(units, segmenter=self.segmenter, lexicon=self.lexicon, places=self.places,
                      user_dicts=self.user_dicts, filter=self.token_filter, cache=self.cache, n_jobs=self.n_jobs,
                      progress=progress)

    @property
    def token_filter(self) -> TokenFilter:
        return TokenFilter(stopwords=self.stopwords, extra_stopwords=tuple(self.extra_stopwords),
                           min_chars=self.min_chars, pos=tuple(self.pos) if self.pos else None,
                           synonyms=self.synonyms)


@dataclass
class RunResult:
    """What a run produced, for notebooks: the objects and where the files are."""

    out: Path
    manifest: dict
    corpus: Corpus
    tokens: Tokens
    dtm: DTM
    tables: dict[str, Path] = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @property
    def model(self):
        """The fitted :class:`~zhili.topics.TopicModel`, if topics were asked for."""
        return self.extras.get("model")


def run(settings: RunSettings | None = None, progress: bool | None = None) -> RunResult:
    """Run the whole analysis and write the results folder ``settings.out``."""
    s = settings or RunSettings()
    out = Path(s.out)
    tables_dir = out / "tables"
    manifest = new_manifest(command_line(), asdict(s))
    timings = manifest["timings"]

    t = time.perf_counter()
    c = corpus(*s.sources, text_col=s.text_col, id_col=s.id_col, name_pattern=s.name_pattern,
               sidecar=s.sidecar, encoding=s.encoding, bylines=s.bylines)
    timings["ingest"] = round(time.perf_counter() - t, 3)
    manifest["inputs"] = c.inputs
    skipped = c.log[c.log["status"] == "skipped"]
    if not len(c.docs):
        _write_log(out, c)
        raise ZhiliError(E.E016, n=len(c.log))
    units = c.reshape(s.unit)

    t = time.perf_counter()
    toks = s.tokenize(units, progress)
    timings["segment"] = round(time.perf_counter() - t, 3)
    manifest["segmenter"] = {k: toks.meta[k] for k in ("backend", "segmenter_fingerprint", "cache")}

    t = time.perf_counter()
    counts = dtm(toks)
    tables: dict[str, pd.DataFrame] = {"documents": documents_table(c, toks), "terms": term_frequencies(counts)}
    timings["count"] = round(time.perf_counter() - t, 3)

    manifest["counts"] = {"in": len(c.log), "analysed": int((c.log["status"] == "analysed").sum()),
                          "skipped": len(skipped), "units": len(units), "unit": s.unit,
                          "tokens": int(toks.n_tokens.sum()), "types": len(toks.vocab)}
    result = RunResult(out, manifest, units, toks, counts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ZhiliWarning)
        _analyse(result, s, tables, progress)
    c.warnings.extend(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, ZhiliWarning)))
    _write_log(out, c)
    t = time.perf_counter()
    result.tables = write_tables(tables, tables_dir)
    extra = result.extras.get("coword")
    if extra is not None:
        result.tables["coword_graphml"] = extra.write_graphml(tables_dir / "coword.graphml")
    timings["write_tables"] = round(time.perf_counter() - t, 3)
    manifest["tables"] = {k: str(p.relative_to(out)) for k, p in result.tables.items()}
    write_json(manifest, out / "manifest.json")
    if s.report:
        t = time.perf_counter()
        from .report import write_report

        result.tables["report"] = write_report(out)
        timings["report"] = round(time.perf_counter() - t, 3)
        write_json(manifest, out / "manifest.json")
    return result


def _analyse(result: RunResult, s: RunSettings, tables: dict[str, pd.DataFrame], progress: bool | None) -> None:
    """Formulations, co-words, and — when asked — topics, keyness and dictionary coding."""
    from .coword import coword
    from .formulations import formulation_examples, formulation_table

    timings = result.manifest["timings"]
    c = result.corpus
    docs = c.docs[c.docs["position"] <= 1] if c.unit != "document" else c.docs
    whole = c.docs.groupby("doc_id", sort=False)["text"].agg("\n".join) if c.unit != "document" else docs.set_index("doc_id")["text"]
    docvars = docs.drop(columns=["text", "position"]).set_index("doc_id").loc[whole.index].reset_index()

    t = time.perf_counter()
    by_vars = [v for v in s.by if v in docvars.columns]
    tables["formulations"] = formulation_table(whole.tolist(), whole.index.tolist(), docvars, by=by_vars)
    tables["formulation_examples"] = formulation_examples(whole.tolist(), whole.index.tolist())
    timings["formulations"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    toks, window = result.tokens, "document"
    if len(whole) < COWORD_MIN_DOCS:  # too few documents to co-occur in: use paragraphs
        window = "paragraph"
        if c.unit == "document":
            toks = s.tokenize(c.reshape("paragraph"), progress=False)
    try:
        net = coword(toks, n_terms=100, window=window, random_state=s.random_state)
        result.extras["coword"] = net
        tables["coword_nodes"], tables["coword_edges"] = net.nodes, net.edges
    except ZhiliError as exc:
        log.warning("co-word network skipped: %s", exc)
    timings["coword"] = round(time.perf_counter() - t, 3)

    model = None
    if s.topics is not None:
        from .topics import TopicModel

        t = time.perf_counter()
        n_units = result.dtm.shape[0]
        if isinstance(s.topics, int) and not isinstance(s.topics, bool):
            if s.topics < 2:
                raise ZhiliError(E.E040, k=s.topics)
            if n_units < 2 * s.topics:  # before trimming, which would fail less helpfully
                raise ZhiliError(E.E041, n_docs=n_units, k=s.topics)
        d = analysis_dtm(result, s)
        model = TopicModel(n_topics=s.topics, method=s.topic_method, seed_topics=s.themes or None,
                           random_state=s.random_state, n_jobs=max(1, s.n_jobs)).fit(d)
        result.extras["model"] = model
        tables["topics"] = model.topics_table()
        tables["doc_topics"] = model.doc_topics_table()
        tables["topic_terms"] = model.topic_terms_table()
        tables["topic_passages"] = model.representative_passages(c)
        if getattr(model, "k_search_", None) is not None:
            tables["k_search"] = model.k_search_.table
            result.manifest["k_search"] = {"recommended_k": model.k_search_.recommended_k,
                                           "reason": model.k_search_.reason}
        model.save(result.out / "model")
        timings["topics"] = round(time.perf_counter() - t, 3)

    if s.by:
        from .compare import compare_topics, term_trends
        from .keyness import keyness

        t = time.perf_counter()
        key, prev = [], []
        for var in s.by:
            key.append(keyness(result.dtm, by=var, exclude_places=s.exclude_places))
            if model is not None:
                prev.append(compare_topics(model, by=var, random_state=s.random_state))
        tables["keyness"] = top_keyness(pd.concat(key, ignore_index=True), s.keyness_terms)
        if "year" in s.by:
            top = tables["terms"]["term"].head(TREND_TERMS).tolist()
            tables["term_trends"] = term_trends(result.dtm, top, time="year")
        if prev:
            tables["topic_prevalence"] = pd.concat(prev, ignore_index=True)
        timings["compare"] = round(time.perf_counter() - t, 3)

    if s.dictionary:
        from .dictionary import code_dictionary

        tables["dictionary"] = code_dictionary(result.dtm, s.dictionary, by=s.by or None)


def top_keyness(table: pd.DataFrame, n: int = 200, alpha: float = 0.05) -> pd.DataFrame:
    """Per group, the ``n`` strongest over-used and ``n // 4`` strongest under-used terms with
    ``p_adj < alpha`` — the full table (every term x group) belongs in a notebook, not a CSV."""
    sig = table[table["p_adj"] < alpha]
    over = sig[sig["g2"] > 0].groupby(["by", "group"], sort=False, group_keys=False).head(n)
    under = sig[sig["g2"] < 0].groupby(["by", "group"], sort=False, group_keys=False).head(n // 4)
    return pd.concat([over, under]).sort_index(kind="stable").reset_index(drop=True)


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """Each table as ``NAME.csv`` (UTF-8 with BOM) and ``NAME.parquet``, and all of them as
    sheets of one workbook ``zhili-tables.xlsx``."""
    written = {}
    for name, df in tables.items():
        written[name] = write_table(df, folder / f"{name}.csv")
        write_table(df, folder / f"{name}.parquet")
    written["workbook"] = write_workbook(tables, folder / "zhili-tables.xlsx")
    return written


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """All tables in one Excel workbook, one sheet each (Excel's row limit respected)."""
    with replacing(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        for name, df in tables.items():
            df.head(EXCEL_MAX_ROWS).to_excel(xl, sheet_name=name[:31], index=False)
    return path


def analysis_dtm(result: RunResult, s: RunSettings) -> DTM:
    """The trimmed matrix that topic models use. ``min_df=None``: 5 units, or 2 below
    ``SMALL_CORPUS`` units (measured: 5 recovers labelled topics best on real corpora)."""
    min_df = s.min_df if s.min_df is not None else (5 if result.dtm.shape[0] >= SMALL_CORPUS else 2)
    return dtm_trim(result.dtm, min_df=min_df, max_df=s.max_df, max_features=s.max_features)


def documents_table(c: Corpus, toks: Tokens) -> pd.DataFrame:
    """One row per input document: ``doc_id, source, status, reason, n_chars, n_tokens`` + docvars."""
    per_unit = pd.DataFrame({"doc_id": toks.docvars["doc_id"].to_numpy(), "n_tokens": toks.n_tokens})
    n_tokens = per_unit.groupby("doc_id", sort=False)["n_tokens"].sum()
    table = c.document_table()
    analysed = table["status"] == "analysed"
    table.insert(len(LOG_COLUMNS), "n_tokens", table["doc_id"].map(n_tokens).where(analysed).astype("Int64"))
    return table


def _write_log(out: Path, c: Corpus) -> None:
    lines = [f"skipped\t{r.doc_id}\t{r.source}\t{r.reason}" for r in c.log.itertuples() if r.status == "skipped"]
    lines += [f"warning\t{w}" for w in c.warnings]
    for line in lines:
        log.warning(line.replace("\t", " "))
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.log").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")


def load_config(path: str | Path) -> list[RunSettings]:
    """Analyses from a TOML file: top-level keys are defaults, each ``[[analysis]]`` table
    one run (``name`` names its output folder). Paths are relative to the file.

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

    path = Path(path)
    if not path.exists():
        raise ZhiliError(E.E001, path=path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ZhiliError(E.E062, path=path, detail=exc) from None
    known = set(RunSettings.keys())
    analyses = config.pop("analysis", [{}])
    if not isinstance(analyses, list) or not all(isinstance(a, dict) for a in analyses):
        raise ZhiliError(E.E062, path=path, detail="'analysis' must be an array of tables: [[analysis]]")
    for key in [*config, *(k for a in analyses for k in a if k != "name")]:
        if key not in known:
            raise ZhiliError(E.E061, path=path, key=key, known=", ".join(sorted(known | {"name", "analysis"})))
    base = path.parent
    runs = []
    for i, spec in enumerate(analyses, start=1):
        merged = {**config, **spec}
        name = str(merged.pop("name", f"analysis{i}"))
        merged.setdefault("out", str(Path("zhili-results") / name))
        for key in ("out", "sidecar", "dictionary"):
            if merged.get(key):
                merged[key] = str(base / merged[key])
        for key in ("sources", "user_dicts"):
            merged[key] = [str(base / p) for p in merged.get(key, [])]
        for key in ("by", "extra_stopwords", "pos"):
            if isinstance(merged.get(key), str):
                merged[key] = [merged[key]]
        try:
            runs.append(RunSettings(**merged))
        except TypeError as exc:
            raise ZhiliError(E.E062, path=path, detail=exc) from None
    return runs
