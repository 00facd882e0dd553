"""Figures with Chinese labels, drawn from the tidy tables of a results folder.

Every ``plot_*`` function takes a DataFrame shaped like one table of ``zhili run --out DIR``
(see ``zhili.report``) and returns a :class:`matplotlib.figure.Figure`; nothing is shown or
saved, so callers decide (``fig.savefig("terms.png", dpi=150)``). Figures are built without
pyplot and styled through ``matplotlib.rc_context`` (while they are built and whenever they
are drawn), so making many of them leaks no global state: ``matplotlib.rcParams`` stay as
they were. Text from the data (terms, groups, labels) is never read as mathtext, so a
document variable such as ``$\frac{x}{$`` is drawn as written.

Chinese glyphs come from the font shipped in ``zhili/fonts`` (a subset of Noto Sans CJK SC,
OFL), registered by file path: no system font is needed. :func:`use_chinese_font` makes it
matplotlib's default for your own figures too (that one does change ``rcParams``).

>>> import pandas as pd
>>> terms = pd.DataFrame({"term": ["社会治理", "網格化"], "count": [12, 7], "doc_count": [3, 2]})
>>> fig = plot_top_terms(terms, n=10)
>>> fig.axes[0].get_title()
'高频词 Top terms'
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib import font_manager, rc_context, rcParams
from matplotlib.figure import Figure

from zhili.errors import E, ZhiliError

FONT_PATH = Path(__file__).parent / "fonts" / "ZhiliSansSC-Regular.otf"
K_SEARCH_METRICS = {
    "perplexity": "困惑度 Perplexity (lower is better)",
    "coherence_npmi": "一致性 Coherence (NPMI)",
    "exclusivity": "排他性 Exclusivity",
    "diversity": "多样性 Diversity",
    "stability": "稳定性 Stability",
}


MAX_TICK_LABELS = 80  # a heatmap with more groups labels every n-th column


def use_chinese_font(path: str | Path = FONT_PATH) -> str:
    """Register the CJK font at ``path`` with matplotlib, make it the global default (this
    changes ``rcParams``; the ``plot_*`` functions do not need it); return its family.

    >>> use_chinese_font()
    'Zhili Sans SC'
    """
    family = _register_font(str(Path(path).resolve()))
    rest = [name for name in rcParams["font.sans-serif"] if name != family]
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [family, *rest]
    return family


def font_family(path: str | Path = FONT_PATH) -> str:
    """Register the CJK font at ``path`` with matplotlib (rcParams untouched); return its family.

    >>> font_family()
    'Zhili Sans SC'
    """
    return _register_font(str(Path(path).resolve()))


@lru_cache(maxsize=None)
def _register_font(path: str) -> str:
    try:
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path).get_name()
    except (OSError, RuntimeError, ValueError) as exc:
        raise ZhiliError(E.E063, path=path, detail=str(exc) or type(exc).__name__) from exc


def _style() -> dict:
    """rcParams of zhili's figures: the shipped CJK font by name, no mathtext."""
    family = font_family()
    return {"font.family": [family, "DejaVu Sans"], "text.parse_math": False}


class StyledFigure(Figure):
    """A Figure drawn under zhili's style (font, no mathtext) without touching global rcParams:
    tick labels and layout are made at draw time, so drawing enters the same ``rc_context``."""

    def draw(self, renderer):
        with rc_context(_style()):
            return super().draw(renderer)


F = TypeVar("F", bound=Callable[..., Figure])


def _styled(plot: F) -> F:
    """Build the figure under zhili's style; the global rcParams are left as they were."""
    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with rc_context(_style()):
            return plot(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def _figure(width: float, height: float) -> Figure:
    return StyledFigure(figsize=(width, height), layout="constrained")


def _known(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows whose ``column`` is present (a missing group is never drawn as 'nan')."""
    values = rows[column]
    return rows[values.notna() & (values.astype(str).str.strip() != "")]


def _empty(fig: Figure, message: str) -> Figure:
    ax = fig.axes[0] if fig.axes else fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def topic_title(topic: object, labels: Mapping | None = None) -> str:
    """Panel title for a topic: '3: 基层治理' when labelled, else '主题 Topic 3'."""
    if labels and topic in labels and str(labels[topic]).strip():
        return f"{topic}: {labels[topic]}"
    return f"主题 Topic {topic}"


@_styled
def plot_top_terms(terms: pd.DataFrame, n: int = 30) -> Figure:
    """Horizontal bars of the ``n`` most frequent terms (table ``terms.csv``: term, count)."""
    top = _numeric_counts(terms).nlargest(n, "count").iloc[::-1]
    fig = _figure(7, max(2.5, 0.25 * len(top) + 1))
    ax = fig.add_subplot()
    if top.empty:
        return _empty(fig, "没有词语 No terms")
    ax.barh(top["term"].astype(str), top["count"], color="#3b6ea5")
    ax.set_xlabel("出现次数 Count")
    ax.set_title("高频词 Top terms")
    ax.margins(y=0.01)
    return fig


def _numeric_counts(terms: pd.DataFrame) -> pd.DataFrame:
    """``terms`` with a numeric ``count`` (an empty table read back from CSV has it as text)."""
    if pd.api.types.is_numeric_dtype(terms["count"]):
        return terms
    return terms.assign(count=pd.to_numeric(terms["count"], errors="coerce").fillna(0))


@_styled
def plot_wordcloud(terms: pd.DataFrame, n: int = 200, seed: int = 0) -> Figure:
    """Word cloud of the ``n`` most frequent terms, sized by count (``terms.csv``)."""
    from wordcloud import WordCloud

    fig = _figure(8, 4)
    ax = fig.add_subplot()
    ax.set_axis_off()
    top = _numeric_counts(terms).nlargest(n, "count")
    frequencies = {str(t): float(c) for t, c in zip(top["term"], top["count"]) if c > 0}
    if not frequencies:
        return _empty(fig, "没有词语 No terms")
    cloud = WordCloud(font_path=str(FONT_PATH), width=800, height=400, background_color="white",
                      colormap="Dark2", random_state=seed, prefer_horizontal=1.0)
    ax.imshow(cloud.generate_from_frequencies(frequencies), interpolation="bilinear")
    return fig


def _year_order(values: pd.Series) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric if numeric.notna().all() else values.astype(str)


@_styled
def plot_prevalence_over_time(prevalence: pd.DataFrame, by: str = "year",
                              labels: Mapping | None = None, ncols: int = 3) -> Figure:
    """One small panel per topic: mean share by ``by`` with its 95 % interval as a band.

    ``prevalence`` is ``topic_prevalence.csv`` (by, group, topic, mean, ci_low, ci_high, n_docs);
    ``labels`` maps topic -> short label for the panel titles.
    """
    rows = _known(prevalence[prevalence["by"] == by], "group").copy()
    topics = sorted(rows["topic"].unique(), key=lambda t: (not str(t).isdigit(), int(t) if str(t).isdigit() else 0, str(t)))
    ncols = max(1, min(ncols, len(topics)))
    nrows = max(1, math.ceil(len(topics) / ncols))
    fig = _figure(3.2 * ncols, 2.4 * nrows + 0.4)
    if rows.empty:
        return _empty(fig, f"没有按 {by} 的数据 No rows for '{by}'")
    rows["_x"] = _year_order(rows["group"])
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax, topic in zip(axes, topics):
        one = rows[rows["topic"] == topic].sort_values("_x")
        ax.fill_between(one["_x"], one["ci_low"], one["ci_high"], color="#3b6ea5", alpha=0.25, linewidth=0)
        ax.plot(one["_x"], one["mean"], color="#3b6ea5", marker="o", markersize=3)
        ax.set_title(topic_title(topic, labels), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[len(topics):]:
        ax.set_axis_off()
    if pd.api.types.is_numeric_dtype(rows["_x"]):
        axes[0].xaxis.get_major_locator().set_params(integer=True)
    fig.supxlabel(by)
    fig.supylabel("平均主题比例 Mean topic share")
    return fig


@_styled
def plot_prevalence_heatmap(prevalence: pd.DataFrame, by: str = "province",
                            labels: Mapping | None = None) -> Figure:
    """Heatmap of mean topic share: topics in rows, groups of ``by`` (e.g. provinces) in columns."""
    rows = _known(prevalence[prevalence["by"] == by], "group")
    grid = rows.pivot_table(index="topic", columns="group", values="mean", aggfunc="mean")
    fig = _figure(min(16, 2.5 + 0.45 * grid.shape[1]), 1.5 + 0.35 * max(1, grid.shape[0]))
    ax = fig.add_subplot()
    if grid.empty:
        return _empty(fig, f"没有按 {by} 的数据 No rows for '{by}'")
    image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="YlGnBu")
    step = max(1, math.ceil(grid.shape[1] / MAX_TICK_LABELS))
    ticks = range(0, grid.shape[1], step)
    ax.set_xticks(ticks, [str(grid.columns[i]) for i in ticks], rotation=60, ha="right",
                  fontsize=9 if grid.shape[1] <= 40 else 6)
    ax.set_yticks(range(grid.shape[0]), [topic_title(t, labels) for t in grid.index])
    ax.set_xlabel(by)
    fig.colorbar(image, ax=ax, label="平均主题比例 Mean share", shrink=0.8)
    return fig


@_styled
def plot_keyness(keyness: pd.DataFrame, group: object, n: int = 20, by: str | None = None) -> Figure:
    """Terms most over-used in ``group`` versus the rest (``keyness.csv``), ranked by G²."""
    rows = keyness[keyness["group"].astype(str) == str(group)]
    if by is not None:
        rows = rows[rows["by"] == by]
    top = rows[rows["log_ratio"] > 0].nlargest(n, "g2").iloc[::-1]
    fig = _figure(6, max(2.5, 0.25 * len(top) + 1))
    ax = fig.add_subplot()
    if top.empty:
        return _empty(fig, f"{group}: 没有显著词 No key terms")
    significant = top["p_adj"] < 0.05 if "p_adj" in top else pd.Series(True, index=top.index)
    ax.barh(top["term"].astype(str), top["g2"], color=np.where(significant, "#c0392b", "#bbbbbb"))
    ax.set_xlabel("G² (红 red: p_adj < 0.05)")
    ax.set_title(f"关键词 Key terms: {group}")
    ax.margins(y=0.01)
    return fig


@_styled
def plot_k_search(k_search: pd.DataFrame) -> Figure:
    """One panel per model-fit metric against the number of topics K; the recommended K is marked."""
    metrics = [m for m in K_SEARCH_METRICS if m in k_search and k_search[m].notna().any()]
    fig = _figure(3.2 * max(1, len(metrics)), 2.8)
    if not metrics:
        return _empty(fig, "没有指标 No metrics")
    data = k_search.sort_values("k")
    recommended = data.loc[data["recommended"].astype(str).str.lower().isin(["true", "1"]), "k"] \
        if "recommended" in data else pd.Series(dtype=float)
    for ax, metric in zip(fig.subplots(1, len(metrics), squeeze=False).ravel(), metrics):
        ax.plot(data["k"], data[metric], marker="o", color="#3b6ea5")
        for k in recommended:
            ax.axvline(k, color="#c0392b", linestyle="--", linewidth=1)
        ax.set_title(K_SEARCH_METRICS[metric], fontsize=9)
        ax.set_xlabel("K")
        ax.grid(alpha=0.3)
    return fig


@_styled
def plot_coword(nodes: pd.DataFrame, edges: pd.DataFrame, n: int = 60, seed: int = 0) -> Figure:
    """Co-word network of the ``n`` most frequent terms; size = count, colour = cluster.

    ``nodes`` is ``coword_nodes.csv`` (term, count, cluster); ``edges`` is ``coword_edges.csv``
    (source, target, weight). The spring layout is seeded, so the picture is reproducible.
    """
    fig = _figure(8, 7)
    ax = fig.add_subplot()
    ax.set_axis_off()
    keep = nodes.nlargest(n, "count")
    terms = set(keep["term"].astype(str))
    graph = nx.Graph()
    for row in keep.itertuples(index=False):
        graph.add_node(str(row.term), count=float(row.count), cluster=getattr(row, "cluster", 0))
    for row in edges.itertuples(index=False):
        if str(row.source) in terms and str(row.target) in terms:
            graph.add_edge(str(row.source), str(row.target), weight=float(row.weight))
    if graph.number_of_nodes() == 0:
        return _empty(fig, "没有共词 No co-words")
    position = nx.spring_layout(graph, seed=seed, weight="weight")
    counts = np.array([graph.nodes[t]["count"] for t in graph])
    sizes = 100 + 1400 * counts / counts.max()
    clusters = pd.factorize(pd.Series([graph.nodes[t]["cluster"] for t in graph]).astype(str))[0]
    weights = np.array([graph.edges[e]["weight"] for e in graph.edges]) if graph.number_of_edges() else np.array([])
    widths = 0.5 + 3 * weights / weights.max() if weights.size else []
    nx.draw_networkx_edges(graph, position, ax=ax, width=widths, alpha=0.3, edge_color="#888888")
    nx.draw_networkx_nodes(graph, position, ax=ax, node_size=sizes, node_color=clusters % 10,
                           cmap="tab10", vmin=0, vmax=9, alpha=0.85)
    nx.draw_networkx_labels(graph, position, ax=ax, font_family=_style()["font.family"][0], font_size=9)
    ax.set_title("共词网络 Co-word network")
    return fig


@_styled
def plot_formulation_timeline(formulations: pd.DataFrame, n: int = 20) -> Figure:
    """When each canonical formulation first appears (dot) and, if known, last appears (line).

    ``formulations`` is ``formulations.csv`` (formulation, canonical, count, n_docs, first_year,
    optional last_year); variants are pooled under their canonical form; dot size = documents.
    """
    has_year = "first_year" in formulations and pd.to_numeric(formulations["first_year"], errors="coerce").notna().any()
    fig = _figure(7, 2.5)
    if not has_year or formulations.empty:
        fig.add_subplot()
        return _empty(fig, "没有提法 No formulations" if formulations.empty else "没有提法 No formulations with a year")
    dated = formulations.assign(first_year=pd.to_numeric(formulations["first_year"], errors="coerce"))
    spec = {"count": ("count", "sum"), "n_docs": ("n_docs", "max"), "first_year": ("first_year", "min")}
    if "last_year" in dated:
        dated["last_year"] = pd.to_numeric(dated["last_year"], errors="coerce")
        spec["last_year"] = ("last_year", "max")
    pooled = (dated.dropna(subset=["first_year"]).groupby("canonical", as_index=False)
              .agg(**spec).nlargest(n, "count").sort_values(["first_year", "canonical"], ascending=False))
    fig.set_size_inches(7, max(2.5, 0.3 * len(pooled) + 1))
    ax = fig.add_subplot()
    y = np.arange(len(pooled))
    if "last_year" in pooled:
        ax.hlines(y, pooled["first_year"], pooled["last_year"], color="#3b6ea5", alpha=0.5, linewidth=2)
    sizes = 30 + 300 * pooled["n_docs"] / max(1, pooled["n_docs"].max())
    ax.scatter(pooled["first_year"], y, s=sizes, color="#c0392b", zorder=3)
    ax.set_yticks(y, pooled["canonical"].astype(str))
    ax.set_xlabel("首次出现年份 First year (dot size = documents)")
    ax.set_title("提法时间线 Formulation timeline")
    ax.xaxis.get_major_locator().set_params(integer=True)
    first, last = pooled["first_year"].min(), pooled[["first_year", *(["last_year"] if "last_year" in pooled else [])]].max().max()
    if last - first < 4:  # one or a few years: a narrow axis instead of matplotlib's ±100
        ax.set_xlim(first - 2, last + 2)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _flag(values: pd.Series) -> pd.Series:
    """A True/False column as read back from CSV (True, 'True', 'true', 1)."""
    return values.astype(str).str.lower().isin(["true", "1"])


@_styled
def plot_k_frontier(k_search: pd.DataFrame, chosen: int | None = None) -> Figure:
    """Coherence against exclusivity for every K tried (stm's ``searchK`` picture): the Ks on the
    frontier (no other K better on both; ``k_search.csv``'s ``frontier`` column) joined by a line,
    the others hollow, the chosen K (default: the ``recommended`` row) ringed in red.

    >>> ks = pd.DataFrame({"k": [5, 10, 15], "coherence_npmi": [0.1, 0.2, 0.15], "exclusivity": [0.5, 0.6, 0.7],
    ...                    "frontier": [False, True, True], "recommended": [False, True, False]})
    >>> plot_k_frontier(ks).axes[0].get_xlabel()
    '排他性 Exclusivity'
    """
    fig = _figure(5.5, 4)
    ax = fig.add_subplot()
    data = k_search.dropna(subset=["coherence_npmi", "exclusivity"]) if {"coherence_npmi", "exclusivity"} <= \
        set(k_search.columns) else k_search.iloc[:0]
    if data.empty:
        return _empty(fig, "没有一致性与排他性 No coherence and exclusivity")
    on = _flag(data["frontier"]) if "frontier" in data else pd.Series(False, index=data.index)
    if chosen is None and "recommended" in data and _flag(data["recommended"]).any():
        chosen = int(data.loc[_flag(data["recommended"]), "k"].iloc[0])
    front = data[on].sort_values("exclusivity")
    ax.plot(front["exclusivity"], front["coherence_npmi"], color="#3b6ea5", linewidth=1, zorder=1)
    ax.scatter(data.loc[on, "exclusivity"], data.loc[on, "coherence_npmi"], color="#3b6ea5", zorder=2,
               label="前沿 frontier")
    ax.scatter(data.loc[~on, "exclusivity"], data.loc[~on, "coherence_npmi"], facecolors="none",
               edgecolors="#888888", zorder=2, label="被支配 dominated")
    for row in data.itertuples(index=False):
        ax.annotate(str(int(row.k)), (row.exclusivity, row.coherence_npmi), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    if chosen is not None and (data["k"] == chosen).any():
        row = data[data["k"] == chosen].iloc[0]
        ax.scatter([row["exclusivity"]], [row["coherence_npmi"]], s=160, facecolors="none", edgecolors="#c0392b",
                   linewidths=2, zorder=3, label=f"选定 chosen K={chosen}")
    ax.set_xlabel("排他性 Exclusivity")
    ax.set_ylabel("一致性 Coherence (NPMI)")
    ax.set_title("一致性–排他性前沿 Coherence–exclusivity frontier", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return fig


def _topic_order(topics: pd.Series) -> list:
    """Distinct topics, numbers in numeric order first."""
    return sorted(topics.unique(), key=lambda t: (not str(t).isdigit(), int(t) if str(t).isdigit() else 0, str(t)))


def _effect_panels(effects: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(panel title, rows) per covariate, and per level of a categorical one."""
    panels = []
    for (covariate, level), rows in effects.groupby(["covariate", "level"], sort=False):
        if str(level) == "per unit":
            title = f"{covariate}：每单位 per unit"
        else:
            reference = rows["reference"].iloc[0] if "reference" in rows else ""
            title = f"{covariate}：{level} vs {reference}"
        panels.append((title, rows))
    return panels


@_styled
def plot_topic_effects(effects: pd.DataFrame, labels: Mapping | None = None, max_panels: int = 12,
                       ncols: int = 3) -> Figure:
    """Coefficient plot of ``topic_effects.csv``: one panel per covariate (and per level of a
    categorical one, against its reference; at most ``max_panels``), every topic's change in
    expected share with its interval; red where the interval excludes 0.

    >>> fx = pd.DataFrame({"topic": [0, 1], "covariate": "year", "level": "per unit", "reference": "",
    ...                    "estimate": [0.01, -0.02], "ci_low": [0.0, -0.03], "ci_high": [0.02, -0.01]})
    >>> plot_topic_effects(fx, labels={0: "基层治理"}).axes[0].get_title()
    'year：每单位 per unit'
    """
    panels = _effect_panels(effects)[:max_panels]
    topics = _topic_order(effects["topic"])
    ncols = max(1, min(ncols, len(panels)))
    nrows = max(1, math.ceil(len(panels) / ncols))
    fig = _figure(3.6 * ncols, (0.28 * max(1, len(topics)) + 1.2) * nrows)
    if not panels:
        return _empty(fig, "没有效应 No effects")
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    position = {t: i for i, t in enumerate(topics)}
    names = [topic_title(t, labels) for t in topics]
    for ax, (title, rows) in zip(axes, panels):
        y = rows["topic"].map(position).to_numpy(dtype=float)
        low, high, estimate = (rows[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high", "estimate"))
        colour = np.where((low > 0) | (high < 0), "#c0392b", "#666666")
        ax.hlines(y, low, high, colors=colour, linewidth=1.5)
        ax.scatter(estimate, y, color=colour, s=14, zorder=3)
        ax.axvline(0, color="#999999", linewidth=0.8, linestyle="--")
        ax.set_yticks(range(len(topics)), names, fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    fig.supxlabel("预期主题比例的变化 Change in expected topic share (95% 区间 interval; 红 red: excludes 0)",
                  fontsize=9)
    return fig


@_styled
def plot_expected_shares(expected: pd.DataFrame, covariate: str, labels: Mapping | None = None,
                         ncols: int = 3) -> Figure:
    """One panel per topic (each with its own y scale): the expected share over ``covariate``
    (``topic_effects_expected.csv``: topic, covariate, value, estimate, ci_low, ci_high) with its
    interval as a band, the other covariates as observed.

    >>> ex = pd.DataFrame({"topic": 0, "covariate": "year", "value": [2019, 2020], "estimate": [0.2, 0.3],
    ...                    "ci_low": [0.1, 0.2], "ci_high": [0.3, 0.4]})
    >>> plot_expected_shares(ex, "year").axes[0].get_title()
    '主题 Topic 0'
    """
    rows = expected[expected["covariate"] == covariate].copy()
    topics = _topic_order(rows["topic"])
    ncols = max(1, min(ncols, len(topics)))
    nrows = max(1, math.ceil(len(topics) / ncols))
    fig = _figure(3.2 * ncols, 2.3 * nrows + 0.4)
    if rows.empty:
        return _empty(fig, f"没有 {covariate} 的预期比例 No expected shares for '{covariate}'")
    rows["_x"] = pd.to_numeric(rows["value"], errors="coerce")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, topic in zip(axes, topics):
        one = rows[rows["topic"] == topic].sort_values("_x")
        ax.fill_between(one["_x"], one["ci_low"], one["ci_high"], color="#3b6ea5", alpha=0.25, linewidth=0)
        ax.plot(one["_x"], one["estimate"], color="#3b6ea5")
        ax.set_title(topic_title(topic, labels), fontsize=9)
        ax.tick_params(labelbottom=True)  # also above an empty panel
        ax.grid(alpha=0.3)
    axes[0].xaxis.get_major_locator().set_params(integer=True)
    for ax in axes[len(topics):]:
        ax.set_axis_off()
    fig.supxlabel(covariate)
    fig.supylabel("预期主题比例 Expected topic share")
    return fig
