"""One self-contained HTML report from a results folder written by ``zhili run --out DIR``.

The report inlines its CSS, its one script (the topic explorer) and its figures (PNG as
``data:`` URIs), so it opens offline and can be mailed as a single file. Its
Content-Security-Policy forbids every network request and every script but its own. All
document text (ids, reasons, passages, KWIC lines, terms) is HTML-escaped.

The folder contract: ``manifest.json`` and ``tables/documents.csv`` are required;
``tables/terms.csv``, ``topics.csv``, ``topic_terms.csv``, ``topic_passages.csv``,
``k_search.csv``, ``topic_prevalence.csv``, ``keyness.csv``, ``formulations.csv``,
``formulation_examples.csv``, ``coword_nodes.csv`` and ``coword_edges.csv`` are optional: a
section whose table is absent is replaced by a short note. ``topic_effects.csv`` and
``topic_effects_expected.csv`` (``--effects``) add a section of their own.

>>> write_report("tests/fixtures/results_minimal", "/tmp/zhili-report.html").name
'zhili-report.html'
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import re
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from matplotlib.figure import Figure
from PIL import Image
from scipy.spatial.distance import jensenshannon

from zhili import plotting
from zhili.errors import E, ZhiliError
from zhili.files import replacing

TEMPLATES = Path(__file__).parent / "templates"
DOCUMENT_COLUMNS = ["doc_id", "source", "status", "reason", "n_chars", "n_tokens"]
TIME_VARIABLES = {"year", "years", "date", "period", "month", "quarter"}
MAX_GROUP_VALUES = 60          # a docvar with more distinct values is not tabulated in the overview
MAX_GROUP_LABEL = 30           # ... nor one whose values are longer than this (median characters)
PROVENANCE_SUFFIXES = ("_source", "_url", "_path", "_commit", "notes", "quality_flags")
MAX_KEYNESS_FIGURES = 8        # per grouping variable; every group still appears in the table
PASSAGES_PER_TOPIC = 3
MAX_FORMULATIONS = 150  # rows shown; the CSV has them all
EXAMPLES_PER_FORMULATION = 5
EXPLORER_TERMS = 100           # terms per topic sent to the explorer, by p(w|t)
FIGURE_DPI = 100
MAX_EXPECTED_FIGURES = 2       # numeric covariates drawn as expected-share lines
MAX_EFFECT_ROWS = 200          # rows of topic_effects shown; the CSV has them all


def write_report(results_dir: str | Path, path: str | Path | None = None, figures: FigureCache | None = None) -> Path:
    """Write ``report.html`` (default: inside ``results_dir``) and return its path.

    The file is written to a temporary file beside the target and then moved into place,
    so an interrupted run never leaves a half-written report over a good one. With
    ``figures``, a figure drawn before from the same inputs is taken from that cache.

    >>> write_report("tests/fixtures/results_minimal", "/tmp/report.html").stat().st_size > 0
    True
    """
    results = Path(results_dir)
    manifest = read_manifest(results)
    documents = _read_table(results, "documents.csv", required=True)
    tables = {name: _read_table(results, name) for name in (
        "terms.csv", "topics.csv", "topic_terms.csv", "topic_passages.csv", "k_search.csv",
        "topic_prevalence.csv", "keyness.csv", "formulations.csv", "formulation_examples.csv",
        "coword_nodes.csv", "coword_edges.csv", "topic_effects.csv", "topic_effects_expected.csv")}
    labels = _topic_labels(tables["topics.csv"])
    later: list[tuple[Callable[..., Figure], tuple, dict]] = []

    def draw(plot: Callable[..., Figure], *args: Any, **kwargs: Any) -> Markup:
        """A slot for the figure, drawn once the page's text (and so the font it needs) is known."""
        later.append((plot, args, kwargs))
        return Markup(f"{FIGURE_SLOT}{len(later) - 1}>")

    explorer = None
    if tables["topic_terms.csv"] is not None:
        explorer = topic_explorer_data(tables["topic_terms.csv"], tables["topics.csv"])
    sections = [
        _overview(manifest, documents),
        _terms_section(tables["terms.csv"], manifest, draw),
        _topics_section(tables["topics.csv"], tables["topic_passages.csv"], explorer, labels),
        _k_search_section(tables["k_search.csv"], manifest.get("k_search"), draw),
        *_effects_sections(tables["topic_effects.csv"], tables["topic_effects_expected.csv"], labels,
                           manifest.get("effects"), draw),
        *_prevalence_sections(tables["topic_prevalence.csv"], labels, draw),
        _keyness_section(tables["keyness.csv"], draw),
        _formulations_section(tables["formulations.csv"], tables["formulation_examples.csv"], draw),
        _coword_section(tables["coword_nodes.csv"], tables["coword_edges.csv"], draw),
        _manifest_section(manifest),
    ]
    script = (TEMPLATES / "explorer.js").read_text(encoding="utf-8") if explorer else ""
    html = _environment().get_template("report.html.j2").render(
        title=results.resolve().name,
        zhili_version=_current_version(),
        manifest_version=manifest.get("zhili_version", "?"),
        created=manifest.get("created", ""),
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        csp=_content_security_policy(script),
        script=Markup(script),
        sections=sections,
    )
    face = _font_face_meanwhile(html)  # figures add no characters (base64): the font is cut while they are drawn
    try:
        drawn = [(figures if figures is not None else _drawn)(plot, *args, **kwargs) for plot, args, kwargs in later]
    finally:
        font_face = face()
    html = re.sub(f"{FIGURE_SLOT}(\\d+)>", lambda m: drawn[int(m[1])], html).replace(FONT_FACE_SLOT, font_face, 1)
    target = Path(path) if path is not None else results / "report.html"
    with replacing(target) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return target


def read_manifest(results_dir: Path) -> dict:
    """Read and check ``manifest.json``: present, valid JSON, written by this zhili major version."""
    manifest_path = results_dir / "manifest.json"
    if not results_dir.is_dir():
        raise ZhiliError(E.E060, path=results_dir, detail="no such folder")
    if not manifest_path.is_file():
        raise ZhiliError(E.E060, path=results_dir, detail="manifest.json is missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ZhiliError(E.E060, path=results_dir, detail=f"manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or "zhili_version" not in manifest:
        raise ZhiliError(E.E060, path=results_dir, detail="manifest.json has no 'zhili_version'")
    found, current = str(manifest["zhili_version"]), _current_version()
    if found.split(".")[0] != current.split(".")[0]:
        raise ZhiliError(E.E064, path=results_dir, found=found, current=current)
    return manifest


def topic_explorer_data(topic_terms: pd.DataFrame, topics: pd.DataFrame | None = None,
                        n_terms: int = EXPLORER_TERMS) -> dict:
    """Data for the explorer: topic positions (classical MDS of Jensen–Shannon distances between
    the topics' term distributions) and, per topic, its top terms with p(w|t) and p(w).

    Weights in ``topic_terms`` (topic, term, weight) are normalised per topic; p(w) is the
    share-weighted mix of the topics (uniform shares when ``topics.csv`` is absent).

    >>> tt = pd.DataFrame({"topic": [0, 0, 1, 1], "term": ["治理", "网格", "治理", "数字"],
    ...                    "weight": [3, 1, 1, 3]})
    >>> data = topic_explorer_data(tt)
    >>> [t["terms"][0][0] for t in data["topics"]]
    ['治理', '数字']
    """
    wide = topic_terms.pivot_table(index="topic", columns="term", values="weight", aggfunc="sum", fill_value=0)
    phi = np.clip(wide.to_numpy(dtype=float), 0, None)
    phi /= np.where(phi.sum(axis=1, keepdims=True) > 0, phi.sum(axis=1, keepdims=True), 1)
    share = np.full(len(wide), 1 / len(wide))
    if topics is not None and "share" in topics:
        by_topic = topics.set_index("topic")["share"]
        share = np.array([float(by_topic.get(t, np.nan)) for t in wide.index])
        share = np.where(np.isfinite(share), share, 0)
        share = share / share.sum() if share.sum() > 0 else np.full(len(wide), 1 / len(wide))
    overall = share @ phi
    coordinates = _classical_mds(np.array([[jensenshannon(a, b, base=2) for b in phi] for a in phi]))
    labels = _topic_labels(topics)
    terms = wide.columns.astype(str).to_numpy()
    result = []
    for i, topic in enumerate(wide.index):
        order = [j for j in np.argsort(-phi[i], kind="stable")[:n_terms] if phi[i, j] > 0]
        result.append({
            "id": _plain(topic), "label": labels.get(topic, ""), "share": round(float(share[i]), 6),
            "x": round(float(coordinates[i, 0]), 6), "y": round(float(coordinates[i, 1]), 6),
            "terms": [[terms[j], float(f"{phi[i, j]:.6g}"), float(f"{overall[j]:.6g}")] for j in order],
        })
    return {"lambda": 0.6, "topics": result}


def _classical_mds(distances: np.ndarray) -> np.ndarray:
    """Two-dimensional classical (Torgerson) MDS; missing dimensions are zero."""
    n = len(distances)
    centring = np.eye(n) - np.ones((n, n)) / n
    inner = -0.5 * centring @ np.nan_to_num(distances) ** 2 @ centring
    values, vectors = np.linalg.eigh(inner)
    top = np.argsort(values)[::-1][:2]
    coordinates = vectors[:, top] * np.sqrt(np.clip(values[top], 0, None))
    return np.pad(coordinates, ((0, 0), (0, 2 - coordinates.shape[1])))


def _script_json(data: object) -> Markup:
    """JSON safe inside <script>: '<', '>' and '&' become \\u escapes, so no text can close the tag."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


FONT_FACE_SLOT = "/* zhili:font-face */"
FIGURE_SLOT = "<zhili:figure "  # never in the page's text, whose '<' is escaped


def _font_face(html: str) -> str:
    """An @font-face with the shipped CJK font cut down to the characters this page uses,
    so Chinese shows on machines without Chinese fonts (the page needs no network)."""
    chars = _page_chars(html)
    if not chars:
        return ""
    data = base64.b64encode(font_subset(chars)).decode("ascii")
    return (f'@font-face {{ font-family: "{plotting.font_family()}"; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}')


def _page_chars(html: str) -> frozenset[int]:
    return frozenset(ord(ch) for ch in set(html) if ord(ch) > 0x2E7F)


def _font_face_meanwhile(html: str) -> Callable[[], str]:
    """:func:`_font_face` of ``html``, cut in a forked worker while this process draws the figures
    when the subset is not cached and a fork is safe (:func:`zhili.parallel.can_fork`), else here;
    call the result to get it."""
    from zhili.parallel import can_fork, start_workers

    chars = _page_chars(html)
    if chars and can_fork() and _cached_subset(_font_cache_path(chars)) is None:
        return start_workers(_font_face, [(html,)])[0]
    face = _font_face(html)
    return lambda: face


def font_subset(chars: frozenset[int], cache: bool = True) -> bytes:
    """The shipped font cut to ``chars`` as WOFF bytes, cached on disk by the character set and
    the font's hash (subsetting a CJK font takes seconds; a cached subset is read in milliseconds).

    >>> font_subset(frozenset(map(ord, "治理")))[:4]
    b'wOFF'
    """
    path = _font_cache_path(chars) if cache else None
    data = _cached_subset(path) if path is not None else None
    if data is not None:
        return data
    data = _subset(chars)
    if path is not None:
        try:
            with replacing(path, durable=False) as tmp:
                tmp.write_bytes(data)
        except OSError:
            pass  # a read-only cache only costs time
    return data


def _font_cache_path(chars: frozenset[int]) -> Path:
    key = hashlib.sha256(_font_digest().encode() + b"|" + ",".join(map(str, sorted(chars))).encode()).hexdigest()
    return _font_cache_dir() / f"{key}.woff"


def _cached_subset(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if data[:4] == b"wOFF" else None  # anything else (corrupt, planted) is made again


@functools.lru_cache(maxsize=1)
def _font_digest() -> str:
    return hashlib.sha256(plotting.FONT_PATH.read_bytes()).hexdigest()


def _font_cache_dir() -> Path:
    from zhili.segment import cache_root

    return cache_root() / "fonts"


def _subset(chars: frozenset[int]) -> bytes:
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    font = subset.load_font(str(plotting.FONT_PATH), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    return buffer.getvalue()


def _content_security_policy(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    scripts = f"'sha256-{digest}'" if script else "'none'"
    return (f"default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; script-src {scripts}; "
            "base-uri 'none'; form-action 'none'")


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _current_version() -> str:
    try:
        return version("zhili")
    except PackageNotFoundError:
        return "0+unknown"


def _read_table(results_dir: Path, name: str, required: bool = False) -> pd.DataFrame | None:
    path = results_dir / "tables" / name
    if not path.is_file():
        if required:
            raise ZhiliError(E.E060, path=results_dir, detail=f"tables/{name} is missing")
        return None
    try:
        table = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ZhiliError(E.E060, path=results_dir, detail=f"tables/{name} cannot be read: {exc}") from exc
    return _typed_if_empty(table, path.with_suffix(".parquet"))


def _typed_if_empty(table: pd.DataFrame, parquet: Path) -> pd.DataFrame:
    """An empty table read from CSV has only text columns; give it the types of its Parquet twin
    (else numbers for the count-like columns the plots sort on), so that no plot fails on it."""
    if not table.empty:
        return table
    try:
        dtypes = pd.read_parquet(parquet).dtypes.to_dict() if parquet.is_file() else {}
    except Exception:  # a broken twin: fall back to the names below
        dtypes = {}
    dtypes = {c: t for c, t in dtypes.items() if c in table.columns}
    for col in ("count", "doc_count", "share", "weight", "degree", "g2", "p_adj"):
        if col in table.columns and col not in dtypes:
            dtypes[col] = "float64"
    return table.astype(dtypes) if dtypes else table


def _missing(*names: str) -> str:
    files = ", ".join(f"tables/{n}" for n in names)
    return f"未找到 {files}，本节省略。 Section omitted: {files} not found."


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _topic_labels(topics: pd.DataFrame | None) -> dict:
    if topics is None or "label" not in topics:
        return {}
    return {_plain(t): str(label) for t, label in zip(topics["topic"], topics["label"]) if pd.notna(label)}


def _png(fig: Figure) -> bytes:
    """The figure as a small PNG (256-colour palette)."""
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=FIGURE_DPI, facecolor="white")
    image = Image.open(raw).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small = io.BytesIO()
    image.save(small, format="PNG", optimize=True)
    return small.getvalue()


def _data_uri(png: bytes) -> Markup:
    return Markup("data:image/png;base64," + base64.b64encode(png).decode("ascii"))


Draw = Callable[..., Markup]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _drawn(plot: Callable[..., Figure], *args: Any, **kwargs: Any) -> Markup:
    """``plot(*args, **kwargs)`` as a PNG ``data:`` URI."""
    return _data_uri(_png(plot(*args, **kwargs)))


class FigureCache:
    """Report figures kept as PNG bytes in ``folder``, by the plot function, its arguments (tables
    by :func:`zhili.io.table_digest` and their index), the code of :mod:`zhili.plotting` and of this
    module, matplotlib's settings, the font and the versions of the libraries that draw. Called
    like :func:`_drawn`; ``reused`` and ``drawn`` count the figures it gave from the cache or drew.

    A rerun with another number of topics draws only the figures of the topics again.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.reused = 0
        self.drawn = 0
        self._base: str | None = None

    def __call__(self, plot: Callable[..., Figure], *args: Any, **kwargs: Any) -> Markup:
        if self._base is None:
            self._base = _drawing_digest()
        key = _figure_key(self._base, plot, args, kwargs)
        entry = self.folder / key[:2] / f"{key}.png"
        try:
            png = entry.read_bytes()
            if png.startswith(PNG_SIGNATURE):  # anything else (corrupt, planted) is drawn again
                self.reused += 1
                return _data_uri(png)
        except OSError:
            pass
        png = _png(plot(*args, **kwargs))
        self.drawn += 1
        try:
            with replacing(entry, durable=False) as tmp:
                tmp.write_bytes(png)
        except OSError:
            pass  # a read-only cache only costs time
        return _data_uri(png)


def _figure_key(base: str, plot: Callable[..., Figure], args: tuple, kwargs: dict) -> str:
    from zhili.io import table_digest

    h = hashlib.sha256(f"{base}|{plot.__module__}.{plot.__qualname__}".encode())
    for name, value in [*enumerate(args), *sorted(kwargs.items())]:
        if isinstance(value, pd.DataFrame):
            index = hashlib.sha256(pd.util.hash_pandas_object(value.index).to_numpy().tobytes()).hexdigest()
            text = f"table {table_digest(value)} {index}"
        elif isinstance(value, Mapping):
            text = repr(list(value.items()))
        else:
            text = f"{type(value).__name__} {value!r}"
        h.update(f"|{name}={text}".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _drawing_digest() -> str:
    """What else shapes a figure's pixels: this code, matplotlib's settings, the font, the libraries."""
    import matplotlib

    from zhili.manifest import library_versions

    parts = [Path(plotting.__file__).read_bytes(), Path(__file__).read_bytes(), _font_digest().encode(),
             repr(sorted((k, repr(v)) for k, v in matplotlib.rcParams.items() if k != "backend")).encode(),
             repr(library_versions(("matplotlib", "pillow", "numpy", "pandas", "wordcloud", "networkx"))).encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _cell(value: object) -> dict:
    if isinstance(value, (bool, np.bool_)) or value is None or (isinstance(value, float) and np.isnan(value)):
        return {"text": "" if value is None or value != value else str(value), "num": False}
    if isinstance(value, (int, np.integer)):
        return {"text": str(value), "num": True}
    if isinstance(value, (float, np.floating)):
        return {"text": f"{value:.4g}", "num": True}
    return {"text": str(value), "num": False}


def _table(frame: pd.DataFrame, columns: list[str] | None = None) -> dict:
    columns = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    return {"columns": columns, "rows": [[_cell(v) for v in row] for row in frame[columns].itertuples(index=False)]}


def _key_values(mapping: Mapping, key: str = "key", value: str = "value") -> dict:
    return {"columns": [key, value], "rows": [[_cell(k), _cell(v if not isinstance(v, (list, dict)) else json.dumps(v, ensure_ascii=False))]
                                              for k, v in mapping.items()]}


def _overview(manifest: dict, documents: pd.DataFrame) -> dict:
    status = documents["status"].astype(str) if "status" in documents else pd.Series("analysed", index=documents.index)
    counts = manifest.get("counts") or {}
    analysed = documents[status == "analysed"]
    boxes = [("输入 documents in", counts.get("in", len(documents))),
             ("已分析 analysed", counts.get("analysed", len(analysed))),
             ("已跳过 skipped", counts.get("skipped", int((status == "skipped").sum())))]
    groups = []
    for var in [c for c in documents.columns if c not in DOCUMENT_COLUMNS]:
        values = analysed[var].dropna()
        if var.endswith(PROVENANCE_SUFFIXES) or values.astype(str).str.len().median() > MAX_GROUP_LABEL:
            continue  # provenance notes and free text are not groups
        if 0 < values.nunique() <= MAX_GROUP_VALUES:
            tally = values.value_counts().rename_axis(var).reset_index(name="documents")
            tally = tally.sort_values(var, key=_sort_key, kind="stable")
            n_missing = int(len(analysed) - len(values))
            if n_missing:  # counted, never a group called 'nan'
                tally = pd.concat([tally, pd.DataFrame({var: ["(缺失 missing)"], "documents": [n_missing]})],
                                  ignore_index=True)
            groups.append({"var": var, "table": _table(tally)})
    return {"id": "overview", "title": "语料概况 Corpus overview", "note": "", "counts": boxes,
            "skipped": _table(documents[status == "skipped"], ["doc_id", "source", "reason"]), "groups": groups}


def _sort_key(values: pd.Series) -> pd.Series:
    """Numbers in numeric order, then text: mixed-type group columns sort without a TypeError."""
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric if numeric.notna().all() else values.astype(str)


def _known_groups(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of a grouped table whose group is present (a missing group is not a group)."""
    return rows[rows["group"].notna() & (rows["group"].astype(str).str.strip() != "")]


def _terms_section(terms: pd.DataFrame | None, manifest: Mapping | None = None, draw: Draw = _drawn) -> dict:
    section = {"id": "terms", "title": "高频词 Top terms and word cloud"}
    if terms is None:
        return {**section, "note": _missing("terms.csv")}
    if terms.empty:
        return {**section, "note": no_terms_note(manifest or {})}
    return {**section, "note": "", "top_terms": draw(plotting.plot_top_terms, terms),
            "cloud": draw(plotting.plot_wordcloud, terms)}


def no_terms_note(manifest: Mapping) -> str:
    """Why the terms table is empty: the token filters of the run (from the manifest's settings)
    removed every token, or the analysed texts hold no words."""
    settings = manifest.get("settings") if isinstance(manifest.get("settings"), Mapping) else {}
    counts = manifest.get("counts") if isinstance(manifest.get("counts"), Mapping) else {}
    filters = [f"{key.replace('_', '-')}={settings[key]}" for key in ("stopwords", "extra_stopwords", "min_chars", "pos")
               if key in settings and settings[key] not in (None, [], ())]
    return (f"没有词语：过滤后不剩任何词。 No terms: {counts.get('analysed', '?')} analysed documents left no term "
            f"after the token filters ({', '.join(filters) or 'none'}); the texts may hold only stopwords, "
            "punctuation or words shorter than --min-chars. Loosen --stopwords, --min-chars or --pos.")


def _topics_section(topics: pd.DataFrame | None, passages: pd.DataFrame | None, explorer: dict | None,
                    labels: dict) -> dict:
    section = {"id": "topics", "title": "主题 Topics"}
    if topics is None:
        return {**section, "note": _missing("topics.csv")}
    grouped = []
    if passages is not None:
        for topic, rows in passages.groupby("topic", sort=True):
            best = rows.sort_values("weight", ascending=False).head(PASSAGES_PER_TOPIC)
            grouped.append({"name": plotting.topic_title(_plain(topic), labels),
                            "passages": [{"passage": str(r.passage), "doc_id": str(r.doc_id), "weight": f"{r.weight:.3g}"}
                                         for r in best.itertuples(index=False)]})
    return {**section, "note": "",
            "table": _table(topics, ["topic", "label", "name", "share", "top_terms", "frex_terms"]),
            "explorer": _script_json(explorer) if explorer else "",
            "explorer_note": "" if explorer else _missing("topic_terms.csv"),
            "passages": grouped, "passages_note": _missing("topic_passages.csv")}


def _k_search_section(k_search: pd.DataFrame | None, verdict: Mapping | None = None, draw: Draw = _drawn) -> dict:
    section = {"id": "k-search", "title": "主题数选择 Choosing the number of topics (K)"}
    if k_search is None:
        return {**section, "note": _missing("k_search.csv")}
    verdict = verdict if isinstance(verdict, Mapping) else {}
    chosen = verdict.get("recommended_k")
    return {**section, "note": "", "chosen": "" if chosen is None else str(chosen),
            "reason": str(verdict.get("reason") or ""),
            "frontier": draw(plotting.plot_k_frontier, k_search, chosen if isinstance(chosen, int) else None),
            "figure": draw(plotting.plot_k_search, k_search), "table": _table(k_search)}


def _effects_sections(effects: pd.DataFrame | None, expected: pd.DataFrame | None, labels: dict,
                      settings: Mapping | None = None, draw: Draw = _drawn) -> list[dict]:
    """The covariate-effects section (none when the run estimated no effects): a coefficient
    plot of every covariate and the expected shares over each numeric covariate."""
    if effects is None:
        return []
    section = {"id": "effects", "title": "协变量效应 Covariate effects on topic prevalence"}
    settings = settings if isinstance(settings, Mapping) else {}
    numeric = list(dict.fromkeys(effects.loc[effects["level"].astype(str) == "per unit", "covariate"].astype(str)))
    lines = []
    if expected is not None:
        lines = [{"title": f"预期主题比例 Expected share over {var}",
                  "src": draw(plotting.plot_expected_shares, expected, var, labels=labels)}
                 for var in numeric[:MAX_EXPECTED_FIGURES]]
    shown = effects.sort_values("p", kind="stable").head(MAX_EFFECT_ROWS)
    about = [f"公式 formula: {settings['formula']}" if "formula" in settings else "",
             f"{settings['n_units']} units in {settings['n_docs']} documents" if "n_units" in settings else "",
             f"{settings['n_draws']} posterior draws" if "n_draws" in settings else "", str(settings.get("model", ""))]
    caption = " · ".join(a for a in about if a) + (". " if any(about) else "") + \
        f"表 Table: the {len(shown)} smallest p of {len(effects)} rows (all in tables/topic_effects.csv)."
    return [{**section, "note": "", "caption": caption,
             "figure": draw(plotting.plot_topic_effects, effects, labels=labels), "lines": lines,
             "table": _table(shown, ["topic", "label", "covariate", "level", "reference", "estimate", "ci_low",
                                     "ci_high", "p"])}]


def _is_time(by: str, groups: pd.Series) -> bool:
    return by.lower() in TIME_VARIABLES or pd.to_numeric(groups, errors="coerce").notna().all()


def _prevalence_sections(prevalence: pd.DataFrame | None, labels: dict, draw: Draw = _drawn) -> list[dict]:
    over_time = {"id": "prevalence-time", "title": "主题随时间的变化 Topic prevalence over time"}
    by_place = {"id": "prevalence-place", "title": "主题的地区差异 Topic prevalence across places"}
    if prevalence is None:
        note = _missing("topic_prevalence.csv")
        return [{**over_time, "note": note}, {**by_place, "note": note}]
    time_figures, place_figures = [], []
    for by, rows in _known_groups(prevalence).groupby("by", sort=True):
        if _is_time(str(by), rows["group"]):
            time_figures.append({"title": f"按 {by} By {by} (95% 区间 interval)",
                                 "src": draw(plotting.plot_prevalence_over_time, rows, by=by, labels=labels)})
        else:
            place_figures.append({"title": f"按 {by} By {by}",
                                  "src": draw(plotting.plot_prevalence_heatmap, rows, by=by, labels=labels)})
    return [{**over_time, "figures": time_figures,
             "note": "" if time_figures else "没有时间变量 No time variable in tables/topic_prevalence.csv."},
            {**by_place, "figures": place_figures,
             "note": "" if place_figures else "没有地区变量 No place variable in tables/topic_prevalence.csv."}]


def _keyness_section(keyness: pd.DataFrame | None, draw: Draw = _drawn) -> dict:
    section = {"id": "keyness", "title": "关键词对比 Keyness by group"}
    if keyness is None:
        return {**section, "note": _missing("keyness.csv")}
    blocks = []
    for by, rows in _known_groups(keyness).groupby("by", sort=True):
        groups = sorted(rows["group"].unique(), key=str)
        summary = pd.DataFrame({"group": groups, "over-used terms 高频特征词": [
            " ".join(rows[(rows["group"] == g) & (rows["log_ratio"] > 0)].nlargest(10, "g2")["term"].astype(str))
            for g in groups]})
        blocks.append({"by": by, "table": _table(summary), "figures": [
            {"title": f"{by} = {g}", "src": draw(plotting.plot_keyness, rows, g, n=15)}
            for g in groups[:MAX_KEYNESS_FIGURES]]})
    return {**section, "note": "", "blocks": blocks}


def _formulations_section(formulations: pd.DataFrame | None, examples: pd.DataFrame | None,
                          draw: Draw = _drawn) -> dict:
    section = {"id": "formulations", "title": "提法 Formulations"}
    if formulations is None:
        return {**section, "note": _missing("formulations.csv")}
    if formulations.empty:
        return {**section, "note": "没有找到提法 No formulations were found in this corpus."}
    top = formulations.sort_values("count", ascending=False, kind="stable").head(MAX_FORMULATIONS)
    kwic = None
    if examples is not None and {"canonical", "doc_id", "kwic"} <= set(examples.columns):
        shown = examples[examples["canonical"].isin(set(top["canonical"]))]
        kwic = _table(shown.groupby("canonical", sort=True).head(EXAMPLES_PER_FORMULATION)
                      .sort_values("canonical", kind="stable"), ["canonical", "doc_id", "kwic"])
    return {**section, "note": "", "caption": f"前 {len(top)} 条 · top {len(top)} of {len(formulations)} (all in tables/formulations.csv)",
            "figure": draw(plotting.plot_formulation_timeline, formulations),
            "table": _table(top),
            "examples": kwic, "examples_note": _missing("formulation_examples.csv")}


def _coword_section(nodes: pd.DataFrame | None, edges: pd.DataFrame | None, draw: Draw = _drawn) -> dict:
    section = {"id": "coword", "title": "共词网络 Co-word network"}
    if nodes is None or edges is None:
        return {**section, "note": _missing("coword_nodes.csv", "coword_edges.csv")}
    return {**section, "note": "", "figure": draw(plotting.plot_coword, nodes, edges)}


def _manifest_section(manifest: dict) -> dict:
    summary = {k: manifest.get(k, "") for k in ("zhili_version", "created", "command", "random_state")}
    tables = [(title, _key_values(manifest[key])) for key, title in (
        ("settings", "设置 Settings"), ("counts", "计数 Counts"), ("timings", "耗时（秒）Timings (s)"),
        ("libraries", "库版本 Library versions")) if isinstance(manifest.get(key), Mapping)]
    if isinstance(manifest.get("inputs"), list) and manifest["inputs"]:
        tables.append(("输入 Inputs", _table(pd.DataFrame(manifest["inputs"]))))
    return {"id": "manifest", "title": "运行记录 Run manifest", "note": "", "summary": _key_values(summary),
            "tables": tables, "raw": json.dumps(manifest, ensure_ascii=False, indent=2)}
