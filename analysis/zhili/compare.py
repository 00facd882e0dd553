"""Compare topic prevalence and term use across groups (cities, provinces, years …).

Every interval carries both kinds of uncertainty: each unit's topic shares are drawn
from its posterior (``model.doc_topic_concentration_``, a Dirichlet per unit) and the
documents of each group are resampled with replacement (a cluster bootstrap, so the
paragraphs of one report move together). ``topic_regression`` combines the same draws
with the sampling uncertainty of a least-squares fit (the "method of composition" of
R's ``stm::estimateEffect``).

A fitted model is anything with ``n_topics_``, ``doc_topic_`` (units x K, rows sum to 1),
``doc_topic_concentration_`` (units x K Dirichlet parameters), ``docvars_`` (aligned with
the units, with ``doc_id``), ``labels_`` and ``topic_names_`` (list or None).

>>> import types
>>> rng = np.random.default_rng(0)
>>> alpha = rng.gamma(2.0, 5.0, size=(6, 3))
>>> model = types.SimpleNamespace(
...     n_topics_=3, doc_topic_=alpha / alpha.sum(1, keepdims=True), doc_topic_concentration_=alpha,
...     docvars_=pd.DataFrame({"doc_id": list("abcdef"), "city": ["南通市"] * 3 + ["苏州市"] * 2 + ["无锡市"]}),
...     labels_=["网格 治理", "经济 发展", "法治 建设"], topic_names_=None)
>>> table = compare_topics(model, "city", n_draws=50)
>>> table.columns.tolist()[:8]
['by', 'group', 'topic', 'label', 'mean', 'ci_low', 'ci_high', 'n_docs']
>>> table.loc[table["group"] == "无锡市", "note"].iloc[0]
'too few documents for an interval'
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.interpolate import BSpline
from scipy.stats import norm
from threadpoolctl import threadpool_limits

from .dtm import DTM
from .errors import E, W, ZhiliError, ZhiliWarning, warning_text
from .grouping import (COMBINE, JOIN, Grouping, group_labels, indicator, make_grouping, numeric_years,  # noqa: F401
                       renamed_by, require_docvars, sorted_values)
from .grouping import doc_ids as unit_doc_ids

TOO_FEW = "too few documents for an interval"
ONE_DOCUMENT = "one document: the interval resamples its units"
DRAW_CACHE_BYTES = 256 * 2**20  # posterior draws kept on the model up to this size (else regenerated, identically)


# --- draws ----------------------------------------------------------------------------------

def _check_model(model: object) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    theta = np.asarray(model.doc_topic_, dtype=float)
    alpha = np.asarray(model.doc_topic_concentration_, dtype=float)
    docvars = model.docvars_.reset_index(drop=True)
    if theta.shape != alpha.shape or len(docvars) != theta.shape[0]:
        raise ValueError(f"model arrays do not align: doc_topic_ {theta.shape}, "
                         f"doc_topic_concentration_ {alpha.shape}, docvars_ {len(docvars)} rows")
    return theta, np.maximum(alpha, 1e-12), docvars


def units_with_terms(model: object, what: str = "this comparison") -> np.ndarray | None:
    """Which units had at least one term of the model (``doc_lengths_ > 0``), or None when all
    did (or the model does not say). The others — headings, lines of stopwords — carry only the
    prior (1/K each), which would pull every group's mean toward 1/K; they are counted in a
    warning (W141) naming ``what`` they are left out of.

    >>> import types
    >>> units_with_terms(types.SimpleNamespace(doc_lengths_=np.array([3, 1]))) is None
    True
    """
    lengths = getattr(model, "doc_lengths_", None)
    if lengths is None or (np.asarray(lengths) > 0).all():
        return None
    keep = np.asarray(lengths) > 0
    warnings.warn(warning_text(W.W141, n_out=int((~keep).sum()), n=len(keep), what=what), ZhiliWarning, stacklevel=3)
    return keep


def _topic_labels(model: object) -> list[str]:
    names = getattr(model, "topic_names_", None)
    labels = names if names is not None else getattr(model, "labels_", None)
    return list(labels) if labels is not None else [f"topic {k}" for k in range(int(model.n_topics_))]


def draw_theta(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw of every unit's topic shares from its Dirichlet posterior (rows sum to 1)."""
    gamma = rng.standard_gamma(alpha)
    sums = gamma.sum(axis=1, keepdims=True)
    flat = sums[:, 0] == 0  # every shape tiny: fall back to the posterior mean
    if flat.any():
        gamma[flat], sums[flat] = alpha[flat], alpha[flat].sum(axis=1, keepdims=True)
    return gamma / sums


class PosteriorDraws:
    """``n_draws`` draws of every unit's topic shares from its posterior, made once per fit.

    Draw ``d`` comes from its own seed (spawned from ``random_state``), so every table — by
    province, by year, before/after, effects — uses the same draws, whether they are kept
    in memory (up to ``DRAW_CACHE_BYTES``, as float32; made on every core) or regenerated. Use
    :func:`posterior_draws` to get the model's cached instance.

    >>> draws = PosteriorDraws(np.array([[9.0, 1.0], [1.0, 9.0]]), n_draws=3, random_state=0)
    >>> draws[0].shape, np.allclose(draws[2], draws[2])
    ((2, 2), True)
    """

    def __init__(self, alpha: np.ndarray, n_draws: int, random_state: int | None) -> None:
        self.alpha = np.maximum(np.asarray(alpha, dtype=float), 1e-12)
        self.n_draws = int(n_draws)
        self.random_state = random_state
        self._seeds = np.random.SeedSequence(random_state).spawn(self.n_draws)
        self._kept: np.ndarray | None = None
        if self.n_draws * self.alpha.size * 4 <= DRAW_CACHE_BYTES:
            kept = np.empty((self.n_draws, *self.alpha.shape), np.float32)

            def fill(d: int) -> None:
                kept[d] = self._draw(d)

            # numpy draws without the GIL: the draws are made side by side (each from its own seed, so the same)
            with ThreadPoolExecutor(max(1, min(self.n_draws, os.cpu_count() or 1))) as pool:
                list(pool.map(fill, range(self.n_draws)))
            self._kept = kept

    def _draw(self, d: int) -> np.ndarray:
        return draw_theta(self.alpha, np.random.default_rng(self._seeds[d])).astype(np.float32)

    def __len__(self) -> int:
        return self.n_draws

    def __getitem__(self, d: int) -> np.ndarray:
        return self._kept[d] if self._kept is not None else self._draw(d)


def posterior_draws(model: object, n_draws: int = 200, random_state: int | None = 42) -> PosteriorDraws:
    """The model's posterior draws, made on first use and kept until the model is refitted
    (``fit`` resets them). ``random_state=None`` makes fresh draws every call.
    """
    _, alpha, _ = _check_model(model)
    cached = getattr(model, "_posterior_draws", None)
    if (random_state is not None and isinstance(cached, PosteriorDraws) and cached.n_draws == n_draws
            and cached.random_state == random_state and cached.alpha.shape == alpha.shape):
        return cached
    draws = PosteriorDraws(alpha, n_draws, random_state)
    if random_state is not None:
        try:
            model._posterior_draws = draws
        except AttributeError:  # a read-only model object: draws are regenerated next time
            pass
    return draws


def _bootstrap_rng(random_state: int | None) -> np.random.Generator:
    return np.random.default_rng(None if random_state is None else [int(random_state), 1])


def _bootstrap_weights(cluster_group: np.ndarray, n_docs: np.ndarray, unit_cluster: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """Per-unit weights: how often its document was drawn when resampling within its group.

    Clusters are numbered group by group, so group g's clusters are a consecutive block.
    """
    start = np.concatenate([[0], np.cumsum(n_docs)[:-1]])
    pick = start[cluster_group] + (rng.random(len(cluster_group)) * n_docs[cluster_group]).astype(np.int64)
    times = np.bincount(pick, minlength=len(cluster_group)).astype(float)
    return times[unit_cluster]


def group_mean_draws(draws: PosteriorDraws | np.ndarray, grouping: Grouping, n_draws: int | None = None,
                     random_state: int | None = 42) -> np.ndarray:
    """``n_draws x groups x K`` group means, each from one posterior draw and one bootstrap
    of documents within groups. ``draws`` is a :class:`PosteriorDraws` (or Dirichlet
    parameters, drawn here with ``n_draws``)."""
    if not isinstance(draws, PosteriorDraws):
        draws = PosteriorDraws(draws, n_draws or 200, random_state)
    rng = _bootstrap_rng(random_state)
    keep = np.flatnonzero(grouping.unit_group >= 0)
    ind = indicator(grouping)[:, keep]
    unit_cluster = grouping.unit_cluster[keep]
    out = np.empty((len(draws), len(grouping.values), draws.alpha.shape[1]))
    for d in range(len(draws)):
        weights = _bootstrap_weights(grouping.cluster_group, grouping.n_clusters, unit_cluster, rng)
        theta = draws[d][keep]
        total = ind @ weights
        with np.errstate(invalid="ignore", divide="ignore"):
            out[d] = (ind @ (theta * weights[:, None])) / total[:, None]
    return out


def interval_around(point: np.ndarray, draws: np.ndarray, level: float = 0.95,
                    bounds: tuple[float, float] | None = (0.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """A ``level`` interval that holds its point estimate: the spread of the draws around
    their median (central quantiles minus the median) placed on ``point``, clipped to
    ``bounds``. When the draws are centred on the point (as zhili's posteriors are) this is
    the percentile interval; by construction ``low <= point <= high`` always.

    >>> low, high = interval_around(np.array([0.5]), np.array([[0.4], [0.5], [0.6], [0.55], [0.45]]), 0.5)
    >>> bool(low[0] <= 0.5 <= high[0])
    True
    """
    tail = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN
        low, mid, high = np.nanquantile(draws, [tail, 0.5, 1 - tail], axis=0)
    point = np.asarray(point, dtype=float)
    low, high = point - np.maximum(mid - low, 0), point + np.maximum(high - mid, 0)
    if bounds is not None:
        low, high = np.clip(low, bounds[0], bounds[1]), np.clip(high, bounds[0], bounds[1])
        low, high = np.minimum(low, point), np.maximum(high, point)
    return low, high


# --- topic prevalence -----------------------------------------------------------------------

def compare_topics(model: object, by: str | Sequence[str], n_draws: int = 200, random_state: int | None = 42,
                   level: float = 0.95) -> pd.DataFrame:
    """Mean topic share per group with intervals that carry topic uncertainty.

    ``by`` is a document variable or a list (a combination: ``by=['city', 'year']`` gives
    ``by='city×year'`` and groups like ``'南通市|2019'``). ``mean`` is the mean of the
    units' shares (``doc_topic_``, e.g. paragraphs); each of ``n_draws`` draws takes every
    unit's shares from its posterior (:func:`posterior_draws`, made once per fit) and
    resamples whole documents within each group; the interval is the central ``level``
    spread of the draws placed on the mean (:func:`interval_around`), so it always holds
    it. ``n_docs`` counts documents. A group with one document resamples that document's
    units instead (``note`` says so); a group with a single unit has its mean, an empty
    (NaN) interval and ``note='too few documents for an interval'``.

    Columns: ``by, group, topic, label, mean, ci_low, ci_high, n_docs, n_units, note``.
    """
    theta, _, docvars = _check_model(model)
    grouping = make_grouping(docvars, by, what="topic prevalence", keep=units_with_terms(model, "topic prevalence"))
    return _prevalence_table(model, theta, grouping, n_draws, random_state, level)


def _prevalence_table(model: object, theta: np.ndarray, grouping: Grouping, n_draws: int,
                      random_state: int | None, level: float) -> pd.DataFrame:
    ind = indicator(grouping)
    mean = (ind @ theta) / np.maximum(grouping.n_units, 1)[:, None]
    draws = group_mean_draws(posterior_draws(model, n_draws, random_state), grouping, random_state=random_state)
    low, high = interval_around(mean, draws, level)
    few = grouping.n_clusters < 2
    low[few], high[few] = np.nan, np.nan
    lone = (grouping.n_docs == 1) & ~few
    n_groups, k = mean.shape
    table = pd.DataFrame({
        "by": grouping.name,
        "group": pd.Series(np.repeat(np.array(grouping.values, dtype=object), k), dtype=object),
        "topic": np.tile(np.arange(k), n_groups),
        "label": np.tile(np.array(_topic_labels(model), dtype=object), n_groups),
        "mean": mean.ravel(), "ci_low": low.ravel(), "ci_high": high.ravel(),
        "n_docs": np.repeat(grouping.n_docs, k), "n_units": np.repeat(grouping.n_units, k),
        "note": np.where(np.repeat(few, k), TOO_FEW, np.where(np.repeat(lone, k), ONE_DOCUMENT, "")),
    })
    table.attrs.update(n_draws=n_draws, level=level, random_state=random_state,
                       documents_left_out=grouping.n_docs_left_out)
    return table


def topic_trends(model: object, by: str | None = None, n_draws: int = 200, random_state: int | None = 42,
                 level: float = 0.95, *, time: str | None = None) -> pd.DataFrame:
    """Mean topic share per year with intervals: :func:`compare_topics` by a year variable
    (``by='year'`` by default; ``time=`` is a deprecated alias).

    Years may be written ``2019``, ``'2019年'`` or ``'二〇一九年'`` (or typed ``Int64``);
    anything else raises E017. Groups are whole numbers in time order; documents without a
    year are left out with a warning.
    """
    by = renamed_by(by, time, "time", default="year")
    theta, _, docvars = _check_model(model)
    docvars = docvars.assign(**{by: numeric_years(docvars, by)})
    grouping = make_grouping(docvars, by, what="topic trends", keep=units_with_terms(model, "topic trends"))
    return _prevalence_table(model, theta, grouping, n_draws, random_state, level)


def before_after(model: object, by: str | None = None, cut: int = 2012, n_draws: int = 200,
                 random_state: int | None = 42, level: float = 0.95, *, time: str | None = None) -> pd.DataFrame:
    """Difference in mean topic share after (``by >= cut``) minus before, with an interval
    that holds it (``by='year'`` by default; ``time=`` is a deprecated alias).

    Columns: ``topic, label, time, cut, mean_before, mean_after, difference, ci_low, ci_high,
    n_docs_before, n_docs_after, note`` (``time`` names the variable).
    """
    by = renamed_by(by, time, "time", default="year")
    theta, _, docvars = _check_model(model)
    years = numeric_years(docvars, by)
    docvars = docvars.assign(**{by: years})
    group_labels(docvars, by, what=f"before/after {cut}")  # E050 when empty, a warning when partly
    side = [None if pd.isna(y) else ("after" if y >= cut else "before") for y in years]
    grouping = make_grouping(docvars, by, labels=pd.Series(side, dtype=object), values=["before", "after"],
                             keep=units_with_terms(model, f"before/after {cut}"))
    if (grouping.n_docs == 0).any():
        raise ZhiliError(E.E054, var=by, cut=cut, first=years.min(), last=years.max())
    mean = (indicator(grouping) @ theta) / grouping.n_units[:, None]
    draws = group_mean_draws(posterior_draws(model, n_draws, random_state), grouping, random_state=random_state)
    difference = mean[1] - mean[0]
    low, high = interval_around(difference, draws[:, 1] - draws[:, 0], level, bounds=(-1.0, 1.0))
    few = bool((grouping.n_clusters < 2).any())
    if few:
        low[:], high[:] = np.nan, np.nan
    k = theta.shape[1]
    table = pd.DataFrame({
        "topic": np.arange(k), "label": _topic_labels(model), "time": by, "cut": cut,
        "mean_before": mean[0], "mean_after": mean[1], "difference": difference,
        "ci_low": low, "ci_high": high, "n_docs_before": grouping.n_docs[0], "n_docs_after": grouping.n_docs[1],
        "note": TOO_FEW if few else "",
    })
    table.attrs.update(n_draws=n_draws, level=level, random_state=random_state)
    return table


# --- regression -----------------------------------------------------------------------------

@dataclass
class TopicRegression:
    """Coefficients and fitted shares of :func:`topic_regression`, both with intervals.

    ``coefficients``: ``term, topic, label, estimate, se, ci_low, ci_high``.
    ``fitted``: ``[time], [contrast], topic, label, mean, ci_low, ci_high, note``: the fitted
    share at every observed year (and group), the thing to plot for a spline.
    """

    coefficients: pd.DataFrame
    fitted: pd.DataFrame


def topic_regression(model: object, year: str | None = "year", spline_df: int | None = None,
                     by: str | None = None, n_draws: int = 200, random_state: int | None = 42,
                     level: float = 0.95, *, contrasts: str | None = None) -> TopicRegression:
    """Regress every topic's share on a year trend (linear, or a B-spline with ``spline_df``
    degrees of freedom) and/or contrasts between the groups of ``by`` (treatment coding against
    the first group; ``contrasts=`` is a deprecated alias of ``by=``).

    Method of composition: each draw takes every unit's shares from its Dirichlet posterior,
    fits least squares, and draws coefficients from their sampling distribution (normal, with
    a covariance clustered by document, so paragraphs of one report are not treated as
    independent). Intervals are the central ``level`` share of all draws. The linear ``year``
    coefficient is the change in share per year; the intercept is the share in the first
    year (of the reference group). Contrast groups with one document get NaN intervals.
    """
    contrasts = renamed_by(by, contrasts, "contrasts")
    if year is None and contrasts is None:
        raise ValueError("topic_regression needs year=..., by=... or both")
    theta, alpha, docvars = _check_model(model)
    with_terms = units_with_terms(model, "the regression")
    keep = np.ones(len(docvars), dtype=bool) if with_terms is None else with_terms.copy()
    years = None
    if year is not None:
        years = numeric_years(docvars, year)
        group_labels(docvars.assign(**{year: years}), year, what="the regression")  # E050 when empty
        keep &= years.notna().to_numpy()
    groups = None
    if contrasts is not None:
        groups = group_labels(docvars, contrasts, what="the regression")[1]
        keep &= groups.notna().to_numpy()
    rows = np.flatnonzero(keep)
    year_values = years[rows].to_numpy(dtype=float) if years is not None else None
    group_values = groups[rows].tolist() if groups is not None else None
    design = _Design.build(year_values, spline_df, group_values, contrasts)
    x = design.matrix(year_values, group_values)
    doc_ids = unit_doc_ids(docvars)[rows]
    clusters = pd.factorize(doc_ids)[0]
    draws = _composition_draws(x, posterior_draws(model, n_draws, random_state), rows, clusters,
                               _bootstrap_rng(random_state))
    point = np.linalg.pinv(x.T @ x) @ x.T @ theta[rows]  # the estimate: least squares on the fitted shares

    labels = _topic_labels(model)
    k = alpha.shape[1]
    low, high = interval_around(point, draws, level, bounds=None)
    coefficients = pd.DataFrame({
        "term": np.repeat(design.names, k), "topic": np.tile(np.arange(k), len(design.names)),
        "label": np.tile(np.array(labels, dtype=object), len(design.names)),
        "estimate": point.ravel(), "se": draws.std(axis=0, ddof=1).ravel(),
        "ci_low": low.ravel(), "ci_high": high.ravel(),
    })
    grid = design.grid()
    grid_x = design.matrix(grid.get("time"), grid.get("group"))
    fitted_draws = np.einsum("gp,dpk->dgk", grid_x, draws)
    fitted_point = grid_x @ point
    f_low, f_high = interval_around(fitted_point, fitted_draws, level, bounds=None)
    fitted = pd.DataFrame({"topic": np.tile(np.arange(k), len(grid["frame"])),
                           "label": np.tile(np.array(labels, dtype=object), len(grid["frame"])),
                           "mean": fitted_point.ravel(), "ci_low": f_low.ravel(), "ci_high": f_high.ravel()})
    frame = grid["frame"].rename(columns={"time": year, "group": contrasts}).loc[lambda f: f.index.repeat(k)]
    fitted = pd.concat([frame.reset_index(drop=True), fitted], axis=1)
    fitted["note"] = ""
    if groups is not None:
        n_docs = pd.Series(doc_ids).groupby(group_values).nunique()
        few = [g for g, n in n_docs.items() if n < 2]
        if few:
            fitted.loc[fitted[contrasts].isin(few), ["ci_low", "ci_high"]] = np.nan
            fitted.loc[fitted[contrasts].isin(few), "note"] = TOO_FEW
            for g in few:
                mask = coefficients["term"] == f"{contrasts}[{g}]"
                coefficients.loc[mask, ["ci_low", "ci_high"]] = np.nan
    coefficients.attrs.update(n_draws=n_draws, level=level, n_units=len(rows), n_docs=int(clusters.max() + 1))
    return TopicRegression(coefficients, fitted)


@dataclass(frozen=True)
class _Design:
    """The columns of the regression: intercept, year (linear or B-spline), group dummies."""

    names: list[str]
    year_start: float | None
    knots: np.ndarray | None
    degree: int
    levels: list | None
    year_values: list | None

    @classmethod
    def build(cls, years: np.ndarray | None, spline_df: int | None, groups: list | None,
              group_name: str | None) -> _Design:
        names = ["(Intercept)"]
        start = knots = None
        degree = 0
        if years is not None:
            start = float(years.min())
            if spline_df is None:
                names.append("year")
            else:
                if spline_df < 1:
                    raise ValueError(f"spline_df must be a whole number >= 1; got {spline_df}")
                degree = min(3, spline_df)
                distinct = np.unique(years)
                inner = np.quantile(distinct, np.linspace(0, 1, spline_df - degree + 2)[1:-1])
                knots = np.r_[[distinct[0]] * (degree + 1), inner, [distinct[-1]] * (degree + 1)]
                names += [f"year_bs{i}" for i in range(1, spline_df + 1)]
        levels = sorted_values(groups) if groups is not None else None
        if levels is not None:
            names += [f"{group_name}[{v}]" for v in levels[1:]]
        year_values = sorted({int(y) for y in years}) if years is not None else None
        return cls(names, start, knots, degree, levels, year_values)

    def matrix(self, years: np.ndarray | None, groups: list | None) -> np.ndarray:
        n = len(years) if years is not None else len(groups)
        columns = [np.ones((n, 1))]
        if self.year_start is not None:
            if self.knots is None:
                columns.append((np.asarray(years, dtype=float) - self.year_start)[:, None])
            else:
                basis = BSpline.design_matrix(np.asarray(years, dtype=float), self.knots, self.degree).toarray()
                columns.append(basis[:, 1:])
        if self.levels is not None:
            index = {v: i for i, v in enumerate(self.levels)}
            dummies = np.zeros((n, len(self.levels)))
            dummies[np.arange(n), [index[g] for g in groups]] = 1.0
            columns.append(dummies[:, 1:])
        return np.hstack(columns)

    def grid(self) -> dict:
        """Every observed year crossed with every group (the points where fits are reported)."""
        parts = {}
        if self.year_values is not None:
            parts["time"] = self.year_values
        if self.levels is not None:
            parts["group"] = self.levels
        frame = pd.MultiIndex.from_product(list(parts.values()), names=list(parts)).to_frame(index=False)
        out = {"frame": frame}
        if "time" in parts:
            out["time"] = frame["time"].to_numpy(dtype=float)
        if "group" in parts:
            out["group"] = frame["group"].tolist()
        return out


def _composition_draws(x: np.ndarray, draws: PosteriorDraws, rows: np.ndarray, clusters: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """``n_draws x p x K`` coefficient draws: posterior draw of shares, OLS, then a normal
    draw around it with the cluster-robust (CR1) covariance."""
    n, p = x.shape
    n_clusters = int(clusters.max()) + 1
    bread = np.linalg.pinv(x.T @ x)
    projector = bread @ x.T
    cluster_sum = sp.csr_matrix((np.ones(n), (clusters, np.arange(n))), shape=(n_clusters, n))
    scale = n_clusters / max(n_clusters - 1, 1) * (n - 1) / max(n - p, 1)
    out = np.empty((len(draws), p, draws.alpha.shape[1]))
    with threadpool_limits(1, user_api="blas"):  # threads only slow these many small products
        for d in range(len(draws)):
            out[d] = _composition_draw(x, draws[d][rows].astype(float), projector, bread, cluster_sum, scale, rng)
    return out


def _composition_draw(x: np.ndarray, theta: np.ndarray, projector: np.ndarray, bread: np.ndarray,
                      cluster_sum: sp.csr_matrix, scale: float, rng: np.random.Generator) -> np.ndarray:
    """One ``p x K`` draw: shares from the posterior, their OLS fit, and a normal step from it."""
    p, k = x.shape[1], theta.shape[1]
    beta = projector @ theta
    resid = theta - x @ beta
    scores = np.stack([cluster_sum @ (x[:, [j]] * resid) for j in range(p)], axis=1)  # clusters x p x K
    meat = np.einsum("cpk,cqk->kpq", scores, scores)
    cov = scale * bread @ meat @ bread
    values, vectors = np.linalg.eigh(cov)
    root = vectors * np.sqrt(np.clip(values, 0, None))[:, None, :]
    return beta + np.einsum("kpq,qk->pk", root, rng.standard_normal((p, k)))


# --- term trends ------------------------------------------------------------------------------

def term_trends(d: DTM, terms: Sequence[str], by: str | None = None, per: float = 1000, level: float = 0.95, *,
                time: str | None = None) -> pd.DataFrame:
    """Rate of each term per ``per`` tokens in each year (``by='year'`` by default; ``time=``
    is a deprecated alias), with a Wilson interval (which always holds the rate).

    ``total`` is the number of tokens counted in the matrix that year (after filtering and
    trimming). The Wilson interval treats tokens as independent, so it is narrower than the
    variation between documents; compare years with many documents with care. Terms not in
    the vocabulary get zero counts and a :class:`ZhiliWarning`; documents without a year
    are left out with one.

    Columns: ``<by>, term, count, total, rate, ci_low, ci_high`` (the first is named after
    the variable, e.g. ``year``).
    """
    by = renamed_by(by, time, "time", default="year")
    if isinstance(terms, str):
        terms = [terms]
    years = numeric_years(d.docvars, by)
    grouping = make_grouping(d.docvars.assign(**{by: years}), by, what="term trends")
    index = {t: i for i, t in enumerate(d.vocabulary)}
    missing = [t for t in terms if t not in index]
    if missing:
        warnings.warn(f"Not in the vocabulary (counted as 0): {', '.join(missing)}", ZhiliWarning, stacklevel=2)
    ind = indicator(grouping)
    totals = np.asarray(ind @ d.matrix.sum(axis=1)).ravel()
    cols = [index.get(t) for t in terms]
    present = [c for c in cols if c is not None]
    counts_present = np.asarray((ind @ d.matrix[:, present]).todense()) if present else np.zeros((len(totals), 0))
    counts = np.zeros((len(totals), len(terms)))
    counts[:, [i for i, c in enumerate(cols) if c is not None]] = counts_present
    low, high = wilson_interval(counts, totals[:, None], level)
    n_years = len(grouping.values)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = counts / totals[:, None] * per
    return pd.DataFrame({
        by: np.repeat(np.array(grouping.values, dtype=object), len(terms)), "term": np.tile(list(terms), n_years),
        "count": counts.ravel().astype(np.int64), "total": np.repeat(totals, len(terms)).astype(np.int64),
        "rate": rate.ravel(), "ci_low": (low * per).ravel(), "ci_high": (high * per).ravel(),
    })


def wilson_interval(successes: np.ndarray, trials: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion (NaN where there are no trials).

    >>> [round(float(v), 4) for v in wilson_interval(np.array(5), np.array(100))]
    [0.0215, 0.1118]
    """
    z = norm.ppf(1 - (1 - level) / 2)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.asarray(successes, dtype=float) / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.fmin(low, p), np.fmax(high, p)  # exact in theory; rounding at p = 0 or 1 must not cross
