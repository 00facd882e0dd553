"""A topic model whose prevalence depends on document variables: tomotopy's (generalised)
Dirichlet-multinomial regression, behind ``TopicModel(method="dmr", covariates=FORMULA)``.

DMR (Mimno & McCallum 2008) gives every unit its own Dirichlet prior over topics,
``alpha_d = exp(lambda · x_d)``, with ``x_d`` built from the unit's document variables;
g-DMR (Lee & Song) adds Legendre polynomials of numeric variables, so ``s(year)`` is a smooth
trend inside the fit (``GDMRModel`` when the formula has a numeric term, else ``DMRModel``). The covariates are written as an effects formula (see
:mod:`zhili.effects`): ``s(x)`` / ``s(x, df=k)`` a numeric variable with polynomial degree
``k`` (default 4), a plain numeric variable degree 1, ``C(x)`` or a text variable one flag
per level (tomotopy's ``multi_metadata``, so several categorical variables add up rather
than interact). Missing values: a numeric one takes the variable's median, a categorical
one no flag (the intercept alone), with a warning.

tomotopy is an optional extra (``pip install "zhili[dmr]"``), imported only here. Fits use
one worker (``workers=1``) and ``seed=random_state``: the same seed gives the same tables.

Fitted state, as the other methods set it: ``doc_topic_concentration_`` = the unit's topic
counts (the last Gibbs sample) + one covariate-free prior shared by every unit (tomotopy's
base ``alpha``, 0.1 per topic) — the data's evidence on its shares; ``doc_topic_`` its mean
(``transform`` the same for new units); ``topic_term_`` tomotopy's p(w|t) mapped onto the
DTM's vocabulary. The unit's own DMR prior ``alpha_d`` shapes the fit (topics and counts) but
is not in these shares: added to them it pulls every unit towards the fitted mean for its
covariate values, and :func:`zhili.topic_effects` on such shares finds effects of noise (a
coin-flip covariate was significant for 32 % of topics instead of 5 %;
``benchmarks/bench_effects_models.py``). It is kept as ``_backend["dmr_prior"]`` (units x K,
in the topics' order): ``counts + dmr_prior`` is DMR's own posterior. Two tomotopy 0.14
defects are worked around: ``metadata_range=`` crashes the interpreter (ranges come from the
data instead) and a document with no known word aborts it (such units get the shared prior
alone, shares 1/K).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import E, ZhiliError, ZhiliWarning

MAX_ITER = 300  # Gibbs sweeps
INFER_ITER = 100  # sweeps for units not fitted on (short units, new documents)
CHECK_EVERY = 25  # sweeps between convergence checks
TOL = 1e-3  # relative change of the log-likelihood per word over CHECK_EVERY sweeps
ALPHA, ETA, SIGMA = 0.1, 0.01, 1.0  # tomotopy's defaults


def import_tomotopy():
    """tomotopy, or E145 saying how to install it."""
    try:
        import tomotopy
    except ImportError as exc:
        raise ZhiliError(E.E145, detail=f"{exc.__class__.__name__}: {exc}") from None
    return tomotopy


class Covariates:
    """How a formula's variables become tomotopy metadata: numeric values (one per numeric or
    smooth term, with its polynomial degree) and categorical flags (``var=value``)."""

    def __init__(self, formula: str, docvars: pd.DataFrame) -> None:
        from .effects import check_variables, covariate_numbers, parse_formula
        from .grouping import is_empty, plain

        if formula is None or (isinstance(formula, str) and not formula.strip()):
            raise ZhiliError(E.E146, detail="method='dmr' needs covariates, e.g. covariates=\"s(year) + province\" "
                                            "(on the command line: --effects)")
        terms = check_variables(formula, docvars, parse_formula(formula))
        self.formula = formula
        self.numeric: list[tuple[str, int]] = []
        self.categorical: list[str] = []
        self.fill: dict[str, float] = {}
        self.missing: dict[str, int] = {}
        for t in terms:
            values = docvars[t.var]
            kind = t.kind
            if kind == "auto":
                is_number = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
                kind = "numeric" if is_number or "year" in t.var.lower() else "categorical"
            empty = np.asarray(is_empty(values), dtype=bool)
            if kind == "categorical":
                levels = {plain(v) for v, e in zip(values, empty) if not e}
                if len(levels) < 2:
                    raise ZhiliError(E.E142, formula=formula, detail=f"'{t.var}' has one value only")
                self.categorical.append(t.var)
            else:
                x = covariate_numbers(docvars, t.var, formula, f"s({t.var})" if kind == "smooth" else t.var).astype("Float64").astype(float).to_numpy()
                ok = ~np.isnan(x)
                if np.unique(x[ok]).size < 2:
                    raise ZhiliError(E.E142, formula=formula, detail=f"'{t.var}' does not vary")
                self.fill[t.var] = float(np.median(x[ok]))
                degree = 1 if kind == "numeric" else max(1, min(t.df, np.unique(x[ok]).size - 1))
                self.numeric.append((t.var, int(degree)))
            if empty.any():
                self.missing[t.var] = int(empty.sum())
        if self.missing:
            warnings.warn("Units with no value of a covariate of the DMR model: " + ", ".join(
                f"{n} without {v}" for v, n in self.missing.items()) + "; a missing number takes the median, "
                "a missing category the reference (no flag).", ZhiliWarning, stacklevel=4)

    @property
    def degrees(self) -> list[int]:
        return [d for _, d in self.numeric]

    def rows(self, docvars: pd.DataFrame) -> tuple[np.ndarray, list[list[str]]]:
        """Numeric metadata (n x numeric terms) and each unit's flags."""
        from .effects import check_variables, covariate_numbers
        from .grouping import is_empty, plain

        check_variables(self.formula, docvars)
        numbers = np.empty((len(docvars), len(self.numeric)))
        for j, (var, _) in enumerate(self.numeric):
            x = covariate_numbers(docvars, var, self.formula).astype("Float64").astype(float).to_numpy()
            numbers[:, j] = np.where(np.isnan(x), self.fill[var], x)
        flags: list[list[str]] = [[] for _ in range(len(docvars))]
        for var in self.categorical:
            empty = np.asarray(is_empty(docvars[var]), dtype=bool)
            for i, (v, e) in enumerate(zip(docvars[var], empty)):
                if not e:
                    flags[i].append(f"{var}={plain(v)}")
        return numbers, flags

    def describe(self) -> dict:
        return {"formula": self.formula, "numeric": [{"var": v, "degree": d} for v, d in self.numeric],
                "categorical": list(self.categorical), "missing": dict(self.missing)}


def _words(X: sp.csr_matrix, row: int, vocabulary: np.ndarray) -> list[str]:
    start, end = X.indptr[row], X.indptr[row + 1]
    return np.repeat(vocabulary[X.indices[start:end]], X.data[start:end].astype(np.int64)).tolist()


def _numeric(mdl, numbers: np.ndarray) -> dict:
    return {"numeric_metadata": numbers.tolist()} if type(mdl).__name__ == "GDMRModel" else {}


def _raw_prior(doc, k: int) -> np.ndarray:
    """The document's Dirichlet prior alpha_d: tomotopy's unnormalised topic distribution is
    counts + alpha_d (``tdf`` does not give alpha_d in 0.14)."""
    counts = np.bincount(np.asarray(doc.topics, dtype=np.int64), minlength=k)
    return np.asarray(doc.get_topic_dist(normalize=False), dtype=np.float64) - counts, counts


def fit_dmr(X: sp.csr_matrix, docvars: pd.DataFrame, vocabulary: np.ndarray, k: int, covariates: str | Covariates,
            random_state: int, max_iter: int, fit_rows: np.ndarray) -> dict:
    """The fitted state of a g-DMR model (the keys ``TopicModel._set_fitted`` reads)."""
    tp = import_tomotopy()
    cov = covariates if isinstance(covariates, Covariates) else Covariates(covariates, docvars.reset_index(drop=True))
    numbers, flags = cov.rows(docvars.reset_index(drop=True))
    vocabulary = np.asarray(vocabulary, dtype=object)
    X = sp.csr_matrix(X)
    X.data = np.rint(X.data)
    seed = int(random_state) % (2**32)
    if cov.degrees:
        mdl = tp.GDMRModel(k=k, degrees=cov.degrees, alpha=ALPHA, eta=ETA, sigma=SIGMA, seed=seed)
    else:  # g-DMR without a numeric variable fails to train in 0.14; DMR is the same model then
        mdl = tp.DMRModel(k=k, alpha=ALPHA, eta=ETA, sigma=SIGMA, seed=seed)
    fitted = np.flatnonzero(fit_rows)
    for r in fitted:
        mdl.add_doc(_words(X, r, vocabulary), metadata="", multi_metadata=flags[r],
                    **_numeric(mdl, numbers[r]))
    n_iter, converged, previous = 0, False, None
    while n_iter < max_iter:
        step = min(CHECK_EVERY, max_iter - n_iter)
        mdl.train(step, workers=1)
        n_iter += step
        ll = float(mdl.ll_per_word)
        if previous is not None and abs(ll - previous) < TOL * abs(previous):
            converged = True
            break
        previous = ll
    state = _state(mdl, X, numbers, flags, vocabulary, k, fitted)
    order, dmr_prior = state.pop("order"), state.pop("dmr_prior")
    return {**state, "n_iter": n_iter, "converged": converged,
            "backend": {"tomotopy": bytes(mdl.saves()), "covariates": cov, "order": order,
                        "tomotopy_version": tp.__version__, "model": type(mdl).__name__,
                        "degrees": cov.degrees, "prior_total": ALPHA * k, "dmr_prior": dmr_prior}}


def _state(mdl, X: sp.csr_matrix, numbers: np.ndarray, flags: list[list[str]], vocabulary: np.ndarray, k: int,
           fitted: np.ndarray) -> dict:
    n = X.shape[0]
    counts = np.zeros((n, k))
    alpha = np.zeros((n, k))
    for r, doc in zip(fitted, mdl.docs):  # iteration, not indexing: indexing the corpus fails in 0.14
        alpha[r], counts[r] = _raw_prior(doc, k)
    rest = np.setdiff1d(np.arange(n), fitted)
    if len(rest):
        alpha[rest], counts[rest] = infer(mdl, X[rest], numbers[rest], [flags[i] for i in rest],
                                          vocabulary, k)
    used = {w: i for i, w in enumerate(mdl.used_vocabs)}
    columns = np.array([used.get(w, -1) for w in vocabulary], dtype=np.int64)
    beta_used = np.array([mdl.get_topic_word_dist(t, normalize=True) for t in range(k)], dtype=np.float64)
    floor = ETA / (mdl.get_count_by_topics().astype(np.float64) + ETA * len(vocabulary))
    topic_term = np.where(columns[None, :] >= 0, beta_used[:, np.maximum(columns, 0)], floor[:, None])
    topic_term /= topic_term.sum(axis=1, keepdims=True)
    lengths = np.asarray(X.sum(axis=1)).ravel()
    sizes = counts.sum(axis=0) / max(counts.sum(), 1e-300)
    from .topics import _topic_order

    order = _topic_order(sizes, 0)
    concentration = evidence(counts)[:, order]
    total = max(float(lengths.sum()), 1e-300)
    return {"topic_term": topic_term[order], "doc_topic": concentration / concentration.sum(axis=1, keepdims=True),
            "concentration": concentration, "sizes": sizes[order],
            "term_frequency": np.asarray(X.sum(axis=0)).ravel() / total, "order": order,
            "dmr_prior": alpha[:, order]}


def evidence(counts: np.ndarray) -> np.ndarray:
    """Dirichlet parameters of the units' shares from their topic counts and one prior shared by
    all units (tomotopy's base ``alpha``), not the unit's covariate-dependent ``alpha_d``."""
    return counts + ALPHA


def infer(mdl, X: sp.csr_matrix, numbers: np.ndarray, flags: list[list[str]], vocabulary: np.ndarray,
          k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's prior alpha_d and topic counts after folding it in (topics fixed); a unit
    with no word of the model gets no counts."""
    known = set(mdl.used_vocabs)
    any_word = mdl.used_vocabs[0]
    n = X.shape[0]
    docs, has_words = [], np.zeros(n, dtype=bool)
    for i in range(n):
        words = [w for w in _words(X, i, vocabulary) if w in known]
        has_words[i] = bool(words)
        docs.append(mdl.make_doc(words or [any_word], metadata="", multi_metadata=flags[i],
                                 **_numeric(mdl, numbers[i])))
    alpha, counts = np.zeros((n, k)), np.zeros((n, k))
    if docs:
        mdl.infer(docs, iterations=INFER_ITER, workers=1)
        for i, doc in enumerate(docs):
            alpha[i], c = _raw_prior(doc, k)
            counts[i] = c if has_words[i] else 0.0
    return alpha, counts


def transform(backend: dict, X: sp.csr_matrix, docvars: pd.DataFrame, vocabulary: np.ndarray) -> np.ndarray:
    """Mean shares of new units as ``doc_topic_`` has them: counts folded in (the unit's
    covariates, from ``docvars``, set its DMR prior in the sampler) + the shared prior."""
    tp = import_tomotopy()
    mdl = getattr(tp, backend["model"]).loads(backend["tomotopy"])
    cov: Covariates = backend["covariates"]
    numbers, flags = cov.rows(docvars.reset_index(drop=True))
    X = sp.csr_matrix(X)
    X.data = np.rint(X.data)
    _, counts = infer(mdl, X, numbers, flags, np.asarray(vocabulary, dtype=object), mdl.k)
    concentration = evidence(counts)[:, backend["order"]]
    return concentration / concentration.sum(axis=1, keepdims=True)
