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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pandas as pd

from .corpus import Corpus, corpus
from .dtm import DTM, dtm, dtm_trim, term_frequencies, write_table
from .errors import E, ZhiliError
from .manifest import command_line, new_manifest, write_json
from .tokens import TokenFilter, Tokens, tokens

log = logging.getLogger("zhili")


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
    segmenter: str = "auto"
    user_dicts: list[str] = field(default_factory=list)
    lexicon: bool = True
    places: bool = True
    stopwords: str = "all"
    extra_stopwords: list[str] = field(default_factory=list)
    min_chars: int = 2
    pos: list[str] | None = None
    synonyms: bool = True
    min_df: int | float = 2
    max_df: int | float = 0.95
    max_features: int | None = 20000
    topics: int | str | None = None
    topic_method: str = "auto"
    random_state: int = 42
    by: list[str] = field(default_factory=list)
    dictionary: str | None = None
    n_jobs: int = 1
    cache: bool = True
    report: bool = True

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

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


def run(settings: RunSettings | None = None, progress: bool | None = None) -> RunResult:
    """Run the whole analysis and write the results folder ``settings.out``."""
    s = settings or RunSettings()
    out = Path(s.out)
    tables_dir = out / "tables"
    manifest = new_manifest(command_line(), asdict(s))
    timings = manifest["timings"]
    written: dict[str, Path] = {}

    t = time.perf_counter()
    c = corpus(*s.sources, text_col=s.text_col, id_col=s.id_col, name_pattern=s.name_pattern,
               sidecar=s.sidecar, encoding=s.encoding)
    timings["ingest"] = round(time.perf_counter() - t, 3)
    manifest["inputs"] = c.inputs
    skipped = c.log[c.log["status"] == "skipped"]
    if not len(c.docs):
        _write_log(out, c)
        raise ZhiliError(E.E016, n=len(c.log))
    units = c.reshape(s.unit)

    t = time.perf_counter()
    toks = tokens(units, segmenter=s.segmenter, lexicon=s.lexicon, places=s.places, user_dicts=s.user_dicts,
                  filter=s.token_filter, cache=s.cache, n_jobs=s.n_jobs, progress=progress)
    timings["segment"] = round(time.perf_counter() - t, 3)
    manifest["segmenter"] = {k: toks.meta[k] for k in ("backend", "segmenter_fingerprint", "cached_shards")}

    t = time.perf_counter()
    counts = dtm(toks)
    terms = term_frequencies(counts)
    written["documents"] = write_table(documents_table(c, toks), tables_dir / "documents.csv")
    written["terms"] = write_table(terms, tables_dir / "terms.csv")
    timings["count"] = round(time.perf_counter() - t, 3)

    manifest["counts"] = {"in": len(c.log), "analysed": int((c.log["status"] == "analysed").sum()),
                          "skipped": len(skipped), "units": len(units), "unit": s.unit,
                          "tokens": int(toks.n_tokens.sum()), "types": len(toks.vocab)}
    result = RunResult(out, manifest, units, toks, counts, written)
    _write_log(out, c)
    manifest["tables"] = {k: str(p.relative_to(out)) for k, p in written.items()}
    write_json(manifest, out / "manifest.json")
    return result


def analysis_dtm(result: RunResult, s: RunSettings) -> DTM:
    """The trimmed matrix that models and comparisons use."""
    return dtm_trim(result.dtm, min_df=s.min_df, max_df=s.max_df, max_features=s.max_features)


def documents_table(c: Corpus, toks: Tokens) -> pd.DataFrame:
    """One row per input document: ``doc_id, source, status, reason, n_chars, n_tokens`` + docvars."""
    per_unit = pd.DataFrame({"doc_id": toks.docvars["doc_id"].to_numpy(), "n_tokens": toks.n_tokens})
    n_tokens = per_unit.groupby("doc_id", sort=False)["n_tokens"].sum()
    table = c.log.copy()
    table["n_tokens"] = table["doc_id"].map(n_tokens).where(table["status"] == "analysed").astype("Int64")
    docvars = c.docs.drop(columns=["text", "position", "source"], errors="ignore").drop_duplicates("doc_id")
    return table.merge(docvars, on="doc_id", how="left")


def _write_log(out: Path, c: Corpus) -> None:
    lines = [f"skipped\t{r.doc_id}\t{r.source}\t{r.reason}" for r in c.log.itertuples() if r.status == "skipped"]
    lines += [f"warning\t{w}" for w in c.warnings]
    for line in lines:
        log.warning(line.replace("\t", " "))
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.log").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
