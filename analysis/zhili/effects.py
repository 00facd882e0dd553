"""Covariate effects on topic prevalence, with uncertainty that carries the topic posterior
(the workflow of R stm's ``estimateEffect``).

``topic_effects(model, "s(year) + province")`` regresses every topic's share on the
document variables and reports, per topic and covariate, the change in the *expected
share* (on the [0, 1] scale): per unit of a numeric covariate (an average marginal
effect), or a level against the reference level of a categorical one (fixed effects:
``province`` as a term pairs the same provinces across years). ``expected`` gives the
expected share over each covariate's values, averaged over the observed units with the
other covariates as they are (standardisation), ready to plot.

Model: a fractional logit per topic (Papke & Wooldridge's quasi-likelihood for shares:
``E[share | x] = expit(x·b)``, so fitted and expected shares stay in [0, 1]), fitted by
Newton's method on the units' posterior mean shares. Uncertainty by the method of
composition: each of ``n_draws`` draws takes every unit's shares from its posterior
(:func:`zhili.compare.posterior_draws`, made once per fit), moves the coefficients by one
Newton step to that draw's fit, and adds a normal step from the cluster-robust (by
document) sandwich covariance, so paragraphs of one report are not counted as
independent; the sandwich's meat leaves out the residual variance that the units'
posterior variance accounts for, which the draws already carry (otherwise it would be
counted twice and the intervals too wide: a coin-flip covariate came out significant for
1.5 % of topics instead of 5 %). Estimates are those of the point fit; ``ci_low``/``ci_high`` and ``p`` are
normal with the standard deviation of the draws (so the interval always holds the
estimate, and ``p < 1 - level`` exactly when the interval excludes 0).

Formula terms, joined by ``+``: ``s(x)`` or ``s(x, df=4)`` a smooth trend (cubic B-spline;
year-like text such as ``2019年`` is read as a year), ``C(x)`` a categorical variable,
a plain name: numeric if the column is numeric, else categorical.

>>> import types
>>> rng = np.random.default_rng(0)
>>> years = np.repeat(np.arange(2010, 2020), 20)
>>> share = 0.2 + 0.03 * (years - 2010)
>>> alpha = np.column_stack([share, 1 - share]) * 200
>>> model = types.SimpleNamespace(n_topics_=2, doc_topic_=alpha / 200, doc_topic_concentration_=alpha,
...     docvars_=pd.DataFrame({"doc_id": np.arange(200).astype(str), "year": years}), labels_=["a", "b"],
...     topic_names_=None)
>>> fx = topic_effects(model, "year", n_draws=50)
>>> row = fx.table.query("topic == 0").iloc[0]
>>> round(float(row["estimate"]), 3), bool(row["p"] < 0.001)
(0.03, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.interpolate import BSpline
from scipy.special import expit
from scipy.stats import norm

from .compare import _check_model, _topic_labels, posterior_draws, units_with_terms
from .errors import E, ZhiliError
from .grouping import doc_ids, is_empty, numeric_years, plain, sorted_values, warn_left_out

COLUMNS = ["topic", "label", "covariate", "level", "reference", "estimate", "ci_low", "ci_high", "p"]
EXPECTED_COLUMNS = ["topic", "label", "covariate", "value", "estimate", "ci_low", "ci_high"]
MAX_STANDARDISE = 3000  # units averaged over for expected shares (a fixed random sample beyond this)
NEWTON_STEPS = 25
_TERM = re.compile(r"^(?:(?P<fn>s|C)\(\s*(?P<var>[^,()]+?)\s*(?:,\s*df\s*=\s*(?P<df>\d+)\s*)?\)|(?P<name>[^()+,]+?))$")


@dataclass(frozen=True)
class Term:
    """One formula term: a variable and how it enters (``'numeric'``, ``'smooth'``, ``'categorical'``)."""

    var: str
    kind: str
    df: int = 4


@dataclass
class TopicEffects:
    """``table``: one row per topic x covariate (x level): ``topic, label, covariate, level,
    reference, estimate, ci_low, ci_high, p``. ``expected``: ``topic, label, covariate,
    value, estimate, ci_low, ci_high`` (expected shares over each covariate). ``settings``:
    the formula, draws and counts, for the manifest."""

    table: pd.DataFrame
    expected: pd.DataFrame
    settings: dict


def parse_formula(formula: str) -> list[Term]:
    """The terms of an effects formula.

    >>> parse_formula("s(year, df=3) + province")
    [Term(var='year', kind='smooth', df=3), Term(var='province', kind='auto', df=4)]
    """
    if not isinstance(formula, str) or not formula.strip():
        raise ZhiliError(E.E142, formula=formula, detail="the formula is empty")
    terms = []
    for part in formula.replace("~", "+").split("+"):
        part = part.strip()
        if not part:
            continue
        match = _TERM.match(part)
        if not match:
            raise ZhiliError(E.E142, formula=formula, detail=f"cannot read the term '{part}'")
        if match["fn"] == "s":
            df = int(match["df"] or 4)
            if df < 1:
                raise ZhiliError(E.E142, formula=formula, detail=f"s({match['var']}) needs df >= 1")
            terms.append(Term(match["var"].strip(), "smooth", df))
        elif match["fn"] == "C":
            terms.append(Term(match["var"].strip(), "categorical"))
        else:
            terms.append(Term(match["name"].strip(), "auto"))
    if not terms:
        raise ZhiliError(E.E142, formula=formula, detail="no terms")
    names = [t.var for t in terms]
    if len(set(names)) < len(names):
        raise ZhiliError(E.E142, formula=formula, detail="a variable appears twice")
    return terms


def check_variables(formula: str, docvars: pd.DataFrame, terms: list[Term] | None = None) -> list[Term]:
    """The terms of ``formula``, or E143 naming the first variable that ``docvars`` lacks and
    the ones it has.

    >>> check_variables("s(year)", pd.DataFrame({"doc_id": ["a"], "year": [2020]}))
    [Term(var='year', kind='smooth', df=4)]
    """
    terms = parse_formula(formula) if terms is None else terms
    for t in terms:
        if t.var not in docvars.columns:
            available = ", ".join(str(c) for c in docvars.columns if c not in ("text", "doc_id", "position"))
            raise ZhiliError(E.E143, formula=formula, var=t.var, available=available or "(none)")
    return terms


def covariate_numbers(frame: pd.DataFrame, var: str, formula: str, term: str | None = None) -> pd.Series:
    """A covariate read as numbers: a numeric column as it is, year-like text as years (``2019年``,
    ``二〇一九``) when the variable is named like a year, other text as numbers (E142 naming ``term``,
    e.g. ``s(gdp)``, when it is not).

    >>> covariate_numbers(pd.DataFrame({"year": ["2019年", None], "gdp": ["1.5", "2"]}), "year", "year").tolist()
    [2019.0, nan]
    """
    column = frame[var]
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column
    if "year" in var.lower():
        return numeric_years(frame, var).astype("Float64").astype(float)
    values = pd.to_numeric(column, errors="coerce")
    unreadable = values.isna() & ~is_empty(column)
    if unreadable.any():
        raise ZhiliError(E.E142, formula=formula, detail=f"{term or var} needs numbers; "
                                                         f"'{var}' has {plain(column[unreadable].iloc[0])!r}")
    return values.astype(float)


class _Design:
    """Columns of the design matrix for each term, and how to rebuild them at other values."""

    def __init__(self, terms: list[Term], frame: pd.DataFrame) -> None:
        self.terms, self.blocks, self.names = [], {}, ["(Intercept)"]
        self.values: dict[str, np.ndarray | list] = {}
        self.spline: dict[str, tuple[np.ndarray, int]] = {}
        self.levels: dict[str, list] = {}
        column = 1
        for term in terms:
            values = frame[term.var]
            kind = term.kind
            if kind == "auto":
                kind = "numeric" if pd.api.types.is_numeric_dtype(values.dtype) and \
                    not pd.api.types.is_bool_dtype(values.dtype) else "categorical"
            term = Term(term.var, kind, term.df)
            if kind == "categorical":
                levels = sorted_values([plain(v) for v in values])
                if len(levels) < 2:
                    raise ZhiliError(E.E142, formula=term.var, detail=f"'{term.var}' has one value only ({levels[0]!r})")
                self.levels[term.var] = levels
                width = len(levels) - 1
                self.names += [f"{term.var}[{v}]" for v in levels[1:]]
            else:
                x = values.to_numpy(dtype=float)
                if np.unique(x).size < 2:
                    raise ZhiliError(E.E142, formula=term.var, detail=f"'{term.var}' does not vary")
                if kind == "smooth":
                    distinct = np.unique(x)
                    df = min(term.df, max(1, distinct.size - 1))
                    degree = min(3, df)
                    inner = np.quantile(distinct, np.linspace(0, 1, df - degree + 2)[1:-1])
                    knots = np.r_[[distinct[0]] * (degree + 1), inner, [distinct[-1]] * (degree + 1)]
                    self.spline[term.var] = (knots, degree)
                    width = df
                    self.names += [f"s({term.var})_{i}" for i in range(1, df + 1)]
                else:
                    width = 1
                    self.names.append(term.var)
                self.values[term.var] = np.unique(x)
            self.terms.append(term)
            self.blocks[term.var] = slice(column, column + width)
            column += width
        self.width = column

    def block(self, term: Term, values: object) -> np.ndarray:
        """The term's columns at ``values`` (a column of the frame, or one value repeated)."""
        if term.kind == "categorical":
            levels = self.levels[term.var]
            index = {v: i for i, v in enumerate(levels)}
            codes = np.array([index[plain(v)] for v in values])
            out = np.zeros((len(codes), len(levels) - 1))
            rows = np.flatnonzero(codes > 0)
            out[rows, codes[rows] - 1] = 1.0
            return out
        x = np.asarray(values, dtype=float)
        if term.kind == "smooth":
            knots, degree = self.spline[term.var]
            x = np.clip(x, knots[0], knots[-1])
            return BSpline.design_matrix(x, knots, degree).toarray()[:, 1:]
        return x[:, None]

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        parts = [np.ones((len(frame), 1))] + [self.block(t, frame[t.var]) for t in self.terms]
        return np.hstack(parts)

    def slope(self, term: Term, x: np.ndarray) -> np.ndarray:
        """d(columns)/d(x) at ``x`` for a numeric or smooth term (n x width)."""
        if term.kind == "numeric":
            return np.ones((len(x), 1))
        knots, degree = self.spline[term.var]
        x = np.clip(np.asarray(x, dtype=float), knots[0], knots[-1])
        n_basis = len(knots) - degree - 1
        out = np.empty((len(x), n_basis - 1))
        for j in range(1, n_basis):
            coefficients = np.zeros(n_basis)
            coefficients[j] = 1.0
            out[:, j - 1] = BSpline(knots, coefficients, degree).derivative()(x)
        return out


def topic_effects(model: object, formula: str, data: pd.DataFrame | None = None, n_draws: int = 200,
                  random_state: int | None = 42, level: float = 0.95) -> TopicEffects:
    """Effects of document variables on every topic's expected share (see the module text).

    ``data``: the variables, one row per unit of the model (default ``model.docvars_``).
    Units with a missing value in a variable of the formula are left out with a warning.

    >>> import types
    >>> alpha = np.array([[8.0, 2.0], [7.0, 3.0], [2.0, 8.0], [3.0, 7.0]] * 5)
    >>> m = types.SimpleNamespace(n_topics_=2, doc_topic_=alpha / 10, doc_topic_concentration_=alpha,
    ...     docvars_=pd.DataFrame({"doc_id": np.arange(20).astype(str), "city": ["南通", "南通", "苏州", "苏州"] * 5}),
    ...     labels_=["a", "b"], topic_names_=None)
    >>> fx = topic_effects(m, "city", n_draws=20)
    >>> fx.table[["topic", "covariate", "level", "reference"]].values.tolist()[0], round(float(fx.table["estimate"][0]), 2)
    ([0, 'city', '苏州', '南通'], -0.5)
    """
    theta, alpha, docvars = _check_model(model)
    terms = parse_formula(formula)
    frame = (docvars if data is None else data.reset_index(drop=True))
    if len(frame) != theta.shape[0]:
        raise ValueError(f"data has {len(frame)} rows but the model has {theta.shape[0]} units")
    check_variables(formula, frame, terms)
    frame = frame.copy()
    ids = doc_ids(docvars)
    for t in terms:
        if t.kind == "smooth" or (t.kind == "auto" and "year" in t.var.lower()):
            frame[t.var] = covariate_numbers(frame, t.var, formula, f"s({t.var})" if t.kind == "smooth" else t.var)
    missing = np.zeros(len(frame), dtype=bool)
    for t in terms:
        missing |= is_empty(frame[t.var])
        if pd.api.types.is_numeric_dtype(frame[t.var].dtype) and not pd.api.types.is_bool_dtype(frame[t.var].dtype):
            missing |= ~np.isfinite(frame[t.var].to_numpy(dtype=float, na_value=np.nan))  # inf: not a value
    if missing.all():
        raise ZhiliError(E.E050, var=" or ".join(t.var for t in terms), n_missing=len(set(ids)), n=len(set(ids)))
    if missing.any():
        n_out = len(set(ids[missing]) - set(ids[~missing]))
        if n_out:
            warn_left_out(n_out, len(set(ids)), " or ".join(t.var for t in terms), "topic effects", stacklevel=2)
    with_terms = units_with_terms(model, "topic effects")
    if with_terms is not None:
        missing |= ~with_terms
    rows = np.flatnonzero(~missing)
    frame = frame.iloc[rows].reset_index(drop=True)
    design = _Design(terms, frame)
    x = design.matrix(frame)
    clusters = pd.factorize(ids[rows])[0]
    if clusters.max() + 1 <= x.shape[1]:
        raise ZhiliError(E.E142, formula=formula,
                         detail=f"{x.shape[1]} coefficients need more than the {clusters.max() + 1} documents")
    _check_rank(x, design.names, formula)
    try:
        with np.errstate(all="ignore"):
            beta, bread = _fit(x, theta[rows])
        fitted = bool(np.isfinite(beta).all() and np.isfinite(bread).all())
    except np.linalg.LinAlgError:
        fitted = False
    if not fitted:
        raise ZhiliError(E.E142, formula=formula, detail="the model cannot be fitted (a numeric covariate with "
                                                         "extreme values? rescale it, e.g. to thousands)")
    cov = _sandwich(x, theta[rows], beta, bread, clusters, alpha[rows])
    rng = np.random.default_rng(None if random_state is None else [int(random_state), 2])
    draws = posterior_draws(model, n_draws, random_state)
    beta_draws = _composition(x, beta, bread, cov, draws, rows, rng)

    sample = np.arange(len(frame))
    if len(sample) > MAX_STANDARDISE:
        sample = np.sort(np.random.default_rng(0).choice(len(sample), MAX_STANDARDISE, replace=False))
    labels = _topic_labels(model)
    table = _effects_table(design, frame.iloc[sample].reset_index(drop=True), x[sample], beta, beta_draws,
                           labels, level)
    expected = _expected_table(design, frame.iloc[sample].reset_index(drop=True), x[sample], beta, beta_draws,
                               labels, level)
    settings = {"formula": formula, "terms": [vars(t) for t in design.terms], "n_draws": n_draws, "level": level,
                "random_state": random_state, "n_units": int(len(rows)), "n_docs": int(clusters.max() + 1),
                "units_left_out": int(missing.sum()), "model": "fractional logit per topic, method of composition, "
                "cluster-robust (document) covariance"}
    table.attrs.update(settings)
    return TopicEffects(table, expected, settings)


def _check_rank(x: np.ndarray, names: list[str], formula: str) -> None:
    """E142 when columns of the design are collinear (a covariate that another one determines,
    such as a region that follows from the city, or a copy of year): their effects are not
    identified, and splitting one effect between them would be reported as two."""
    from scipy.linalg import qr

    scale = np.abs(x).max(axis=0)
    _, r, pivots = qr(x / np.where(scale > 0, scale, 1), mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > diagonal.max() * max(x.shape) * np.finfo(float).eps * 1e3).sum())
    if rank < x.shape[1]:
        redundant = ", ".join(names[i] for i in sorted(pivots[rank:]))
        raise ZhiliError(E.E142, formula=formula, detail=f"collinear covariates: {redundant} follow(s) from the "
                                                         "other terms; leave one of them out")


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fractional-logit coefficients (p x K) by Newton's method, and each topic's inverse
    Hessian (K x p x p)."""
    n, p = x.shape
    k = y.shape[1]
    mean = np.clip(y.mean(axis=0), 1e-6, 1 - 1e-6)
    beta = np.zeros((p, k))
    beta[0] = np.log(mean / (1 - mean))
    ridge = 1e-8 * np.eye(p)
    for _ in range(NEWTON_STEPS):
        mu = expit(x @ beta)
        grad = x.T @ (y - mu)
        hess = np.einsum("np,nk,nq->kpq", x, mu * (1 - mu), x) + ridge
        step = np.linalg.solve(hess, grad.T[:, :, None])[:, :, 0].T
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    mu = expit(x @ beta)
    bread = np.linalg.pinv(np.einsum("np,nk,nq->kpq", x, mu * (1 - mu), x))
    return beta, bread


def _sandwich(x: np.ndarray, y: np.ndarray, beta: np.ndarray, bread: np.ndarray, clusters: np.ndarray,
              alpha: np.ndarray) -> np.ndarray:
    """Cluster-robust (CR1) covariance of each topic's coefficients (K x p x p), its meat
    less the part of the residual variance that the units' posterior variance explains
    (that part is carried by the posterior draws of the composition, so it is not counted
    twice)."""
    n, p = x.shape
    n_clusters = int(clusters.max()) + 1
    resid = y - expit(x @ beta)
    summed = sp.csr_matrix((np.ones(n), (clusters, np.arange(n))), shape=(n_clusters, n))
    scores = np.stack([summed @ (x[:, [j]] * resid) for j in range(p)], axis=1)  # clusters x p x K
    meat = np.einsum("cpk,cqk->kpq", scores, scores)
    total = alpha.sum(axis=1, keepdims=True)
    posterior_variance = alpha * (total - alpha) / (total**2 * (total + 1))  # Dirichlet marginal variances
    meat = meat - np.einsum("np,nk,nq->kpq", x, posterior_variance, x)
    values, vectors = np.linalg.eigh(meat)
    meat = np.einsum("kpi,ki,kqi->kpq", vectors, np.clip(values, 0, None), vectors)  # nearest PSD
    scale = n_clusters / max(n_clusters - 1, 1) * (n - 1) / max(n - p, 1)
    return scale * bread @ meat @ bread


def _composition(x: np.ndarray, beta: np.ndarray, bread: np.ndarray, cov: np.ndarray, draws, rows: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """``n_draws x p x K``: for each posterior draw, one Newton step from the point fit to
    that draw's fit, plus a normal step with the sandwich covariance."""
    p, k = beta.shape
    mu = expit(x @ beta)
    values, vectors = np.linalg.eigh(cov)
    root = vectors * np.sqrt(np.clip(values, 0, None))[:, None, :]  # K x p x p
    out = np.empty((len(draws), p, k))
    for d in range(len(draws)):
        grad = x.T @ (draws[d][rows].astype(float) - mu)  # p x K
        step = np.einsum("kpq,qk->pk", bread, grad)
        out[d] = beta + step + np.einsum("kpq,qk->pk", root, rng.standard_normal((p, k)))
    return out


def _normal(estimate: np.ndarray, draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    se = draws.std(axis=0, ddof=1)
    z = norm.ppf(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * norm.sf(np.abs(estimate) / se), np.where(estimate == 0, 1.0, 0.0))
    return estimate - z * se, estimate + z * se, p


def _effects_table(design: _Design, frame: pd.DataFrame, x: np.ndarray, beta: np.ndarray, beta_draws: np.ndarray,
                   labels: list[str], level: float) -> pd.DataFrame:
    parts = []
    k = beta.shape[1]

    def effect(b: np.ndarray, term: Term, value: object = None) -> np.ndarray:
        columns = design.blocks[term.var]
        if term.kind == "categorical":
            base = x.copy()
            base[:, columns] = design.block(term, [design.levels[term.var][0]] * len(x))
            other = base.copy()
            other[:, columns] = design.block(term, [value] * len(x))
            return (expit(other @ b) - expit(base @ b)).mean(axis=0)
        mu = expit(x @ b)
        slope = design.slope(term, frame[term.var].to_numpy(dtype=float)) @ b[columns]  # n x K
        return (mu * (1 - mu) * slope).mean(axis=0)

    for term in design.terms:
        levels = design.levels[term.var][1:] if term.kind == "categorical" else [None]
        for value in levels:
            estimate = effect(beta, term, value)
            draws = np.stack([effect(b, term, value) for b in beta_draws])
            low, high, p = _normal(estimate, draws, level)
            parts.append(pd.DataFrame({
                "topic": np.arange(k), "label": labels, "covariate": term.var,
                "level": "per unit" if value is None else value,
                "reference": design.levels[term.var][0] if term.kind == "categorical" else "",
                "estimate": estimate, "ci_low": low, "ci_high": high, "p": p}))
    table = pd.concat(parts, ignore_index=True)
    table["level"] = table["level"].astype(object)
    table["reference"] = table["reference"].astype(object)
    return table.sort_values(["topic"], kind="stable").reset_index(drop=True)[COLUMNS]


def _expected_table(design: _Design, frame: pd.DataFrame, x: np.ndarray, beta: np.ndarray, beta_draws: np.ndarray,
                    labels: list[str], level: float) -> pd.DataFrame:
    from .compare import interval_around

    parts = []
    k = beta.shape[1]
    for term in design.terms:
        columns = design.blocks[term.var]
        if term.kind == "categorical":
            grid = design.levels[term.var]
        else:
            grid = design.values[term.var]
            if len(grid) > 40:
                grid = np.unique(np.quantile(grid, np.linspace(0, 1, 40)))
        for value in grid:
            xv = x.copy()
            xv[:, columns] = design.block(term, [value] * len(x))
            estimate = expit(xv @ beta).mean(axis=0)
            draws = np.stack([expit(xv @ b).mean(axis=0) for b in beta_draws])
            low, high = interval_around(estimate, draws, level)
            parts.append(pd.DataFrame({"topic": np.arange(k), "label": labels, "covariate": term.var,
                                       "value": [plain(value)] * k, "estimate": estimate, "ci_low": low,
                                       "ci_high": high}))
    table = pd.concat(parts, ignore_index=True)
    table["value"] = table["value"].astype(object)
    return table.sort_values(["topic"], kind="stable").reset_index(drop=True)[EXPECTED_COLUMNS]
