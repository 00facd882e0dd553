"""Topic models that are reproducible, chosen with evidence and labelled with reasons.

``TopicModel`` follows scikit-learn's conventions (parameters in ``__init__``, ``fit``
returns the model, fitted attributes end in ``_``, randomness only through
``random_state``, default 42). ``search_k`` measures coherence, exclusivity, diversity
and stability over a range of K and recommends one, saying why.

Methods
-------
``'nmf'``  Non-negative matrix factorisation of the tf-idf matrix under the generalised
           Kullback-Leibler divergence (the PLSA objective), fitted by EM-style
           multiplicative updates from an NNDSVDa start. Fast and, on labelled Chinese
           news and court texts, the best at recovering known categories.
``'lda'``  scikit-learn's ``LatentDirichletAllocation`` (online variational Bayes); the
           only method with held-out perplexity and ``partial_fit``.
``'dmr'``  tomotopy's g-DMR (optional extra ``zhili[dmr]``): topic prevalence depends on the
           document variables of ``covariates`` (an effects formula) inside the fit
           (:mod:`zhili.dmr`); a K search for it fits ``'lda'``.
``'auto'`` = ``DEFAULT_METHOD`` = ``'nmf'``, chosen from the measurements in
           ``benchmarks/bench_topics.py`` (topic recovery NMI 0.86 vs 0.68 for LDA on
           THUCNews, 0.27 vs 0.16 on short court texts; 4-8x faster; NPMI not worse).

For NMF (tf-idf = (1 + log count) x smooth idf, rows L2-normalised), ``doc_topic_`` is
the unit's row of W given the fitted H (folded in as ``transform`` folds in new units, so
``fit_transform(X)`` equals ``transform(X)``) normalised to sum 1; ``topic_term_`` is the topic's row of H (its
weights over terms in tf-idf space) normalised to sum 1 — read it as p(w|t); its top terms
are more coherent than a re-allocation of raw counts (NPMI 0.271 vs 0.261 on report
paragraphs; scikit-learn LDA 0.266); ``topic_sizes_`` are token-weighted shares; the Dirichlet
``doc_topic_concentration_`` = ``doc_topic_`` x (the unit's token count + 1): its mean is
``doc_topic_`` itself, as LDA's variational gamma (expected counts + prior) has mean
``doc_topic_``, so the intervals of comparisons are centred on the reported shares for both.

>>> from zhili.corpus import corpus_from_texts
>>> from zhili.dtm import dtm
>>> from zhili.tokens import tokens
>>> texts = ["网格员 网格 巡查 网格化"] * 6 + ["调解 矛盾纠纷 信访 调解"] * 6
>>> m = TopicModel(n_topics=2).fit(dtm(tokens(corpus_from_texts(texts), cache=False)))
>>> sorted(sorted(t) for t in m.top_terms(n=2, by="frex"))
[['矛盾纠纷', '调解'], ['网格', '网格员']]
>>> m.doc_topic_.shape, m.method_
((12, 2), 'nmf')
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm.auto import tqdm

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from .dtm import DTM
from .errors import E, ZhiliError, ZhiliWarning
from .parallel import n_workers

DEFAULT_METHOD = "nmf"
METHODS = ("auto", "nmf", "lda", "dmr")
TERM_RANKINGS = ("prob", "frex", "lift", "relevance")
FORMAT = "zhili-topic-model"
FORMAT_VERSION = 1
MAX_ITER = {"nmf": 60, "lda": 10, "dmr": 300}
MIN_TOKENS = 5  # shorter units (headings, list stubs) do not shape the topics; they are only transformed
SEED_PRIOR_SHARE = 0.2  # pseudo-counts on a theme's seed words, as a share of the topic's mass per iteration
MIN_PASSAGE_TOKENS = 20  # representative passages are substantive units, not headings
LABEL_TERMS = 3
LABEL_SEPARATOR = "·"

class TopicModelNotFittedError(ZhiliError, NotFittedError):
    """E056, and also scikit-learn's ``NotFittedError`` (a ``ValueError`` and ``AttributeError``)."""


class NoPartialFitError(ZhiliError, ValueError, AttributeError):
    """E042 for ``partial_fit`` of a method without one: also an ``AttributeError``, so
    ``hasattr(model, "partial_fit")`` is False for such a model."""


class TopicModel(TransformerMixin, BaseEstimator):
    """A topic model of a count matrix: a scikit-learn transformer.

    ``fit(X)`` takes a :class:`~zhili.dtm.DTM` (vocabulary and document variables travel
    along) or any counts matrix (scipy sparse, numpy, a DataFrame with terms as columns),
    so it works after ``CountVectorizer`` in a ``Pipeline``; ``transform`` gives topic
    shares of new units; ``get_feature_names_out`` names them ``topic_0 …``.

    ``n_topics``: an integer >= 2, or ``'auto'`` to run :func:`search_k` over ``search_ks``
    first (widened when the best K sits on an edge). ``method``: ``'auto'`` (=
    ``DEFAULT_METHOD``), ``'nmf'`` or ``'lda'``. ``themes``: ``{theme: [seed words]}``
    anchors the first ``len(themes)`` topics to those themes (named after them); the rest
    are free (``seed_topics`` is the deprecated old name). ``max_iter``: ``None`` uses the
    method's default (NMF 60 EM iterations, LDA 10 passes). Units with fewer than
    ``min_tokens`` tokens (headings, list stubs) are left out of fitting — on paragraph
    units they otherwise form incoherent topics — and get their shares as new documents do.
    ``n_jobs``: the K search's parallel fits (-1 = all cores, 1 = serial). ``covariates``:
    with ``method='dmr'`` only, an effects formula (``"s(year) + province"``) whose document
    variables set each unit's Dirichlet prior over topics (see :mod:`zhili.dmr`).
    ``idf_by``: NMF only, a document variable whose values group the units (``'doc_id'`` on
    paragraphs: their source documents); the idf then counts groups that use a term instead of
    units, so terms particular to a few documents (an era's, an event's) weigh more than terms
    every document uses in some paragraph. On the national reports' paragraphs this makes known
    eras surface as topics (``benchmarks/bench_eras.py``); on a comparison of cities it also
    favours city-particular terms. A unit with no value is a group of its own.

    Tables, passages and saving are functions of a fitted model (:func:`topics_table`,
    :func:`doc_topics_table`, :func:`topic_terms_table`, :func:`representative_passages`,
    :func:`save_model`, :func:`load_model`); the methods of the same names are thin
    wrappers kept for existing code.

    >>> TopicModel(n_topics=15).get_params()["random_state"]
    42
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> texts = ["网格员 网格 巡查"] * 5 + ["调解 矛盾纠纷 信访"] * 5
    >>> pipe = make_pipeline(CountVectorizer(token_pattern=r"[^ ]+"), TopicModel(n_topics=2, min_tokens=1))
    >>> pipe.fit_transform(texts).shape, pipe[-1].get_feature_names_out().tolist()
    ((10, 2), ['topic_0', 'topic_1'])
    """

    def __init__(self, n_topics: int | str = 10, method: str = "auto", *,
                 themes: Mapping[str, Sequence[str]] | None = None, max_iter: int | None = None,
                 min_tokens: int = MIN_TOKENS, random_state: int = 42, search_ks: Iterable[int] = tuple(range(5, 41, 5)),
                 n_jobs: int = -1, seed_topics: Mapping[str, Sequence[str]] | None = None,
                 covariates: str | None = None, idf_by: str | None = None) -> None:
        self.n_topics = n_topics
        self.method = method
        self.themes = themes
        self.max_iter = max_iter
        self.min_tokens = min_tokens
        self.random_state = random_state
        self.search_ks = search_ks
        self.n_jobs = n_jobs
        self.seed_topics = seed_topics
        self.covariates = covariates
        self.idf_by = idf_by

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        if self.__sklearn_is_fitted__():
            return f"TopicModel({self.n_topics_} topics, {self.method_}, {len(self.vocabulary_)} terms)"
        return super().__repr__(N_CHAR_MAX)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "topic_term_")

    def __sklearn_tags__(self):
        """Counts: non-negative, dense or sparse (scikit-learn >= 1.6 reads these tags)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        return tags

    def _themes(self) -> Mapping[str, Sequence[str]] | None:
        if self.seed_topics is not None:
            warnings.warn("seed_topics= is deprecated; use themes= (the same meaning).", DeprecationWarning,
                          stacklevel=3)
            if self.themes is not None and self.themes != self.seed_topics:
                raise ValueError("give themes= or seed_topics=, not both")
            return self.seed_topics
        return self.themes

    def _reset(self) -> None:
        """Forget everything a previous fit left (fitted attributes, caches, backend)."""
        for name in list(vars(self)):
            if (name.endswith("_") and not name.startswith("__")) or name in _PRIVATE_STATE:
                delattr(self, name)

    # --- fitting ---------------------------------------------------------------------------

    def fit(self, X: DTM | sp.spmatrix | np.ndarray | pd.DataFrame, y: object = None) -> TopicModel:
        """Fit on counts (a DTM, or a units x terms matrix); ``y`` is ignored. Returns the model."""
        self._reset()
        method = _resolve_method(self.method)
        plain = not isinstance(X, DTM)  # a counts matrix: its rows have no document variables
        dtm = _as_dtm(X)
        _check_int(self.min_tokens, "min_tokens", 0)
        if self.max_iter is not None:
            _check_int(self.max_iter, "max_iter", 1)
        X = _check_dtm(dtm)
        if self.covariates is not None and method != "dmr":
            raise ZhiliError(E.E146, detail=f"covariates= is for method='dmr' (a model of prevalence); "
                                            f"method '{method}' estimates effects after the fit (zhili.topic_effects)")
        if method == "dmr":
            from .dmr import Covariates, import_tomotopy

            import_tomotopy()
            covariates = Covariates(self.covariates, dtm.docvars.reset_index(drop=True))  # checked before any fit
        groups = idf_groups(dtm, self.idf_by, method, plain=plain)
        k = self.n_topics
        if k == "auto":
            limit = max(2, min(_n_nonempty(X) // 3, X.shape[1]))  # several units per topic, a term per topic
            ks = [x for x in self.search_ks if x <= limit]
            if len(ks) < 2:  # a small corpus: try every K it can carry
                ks = list(range(2, min(limit, 10) + 1))
            with warnings.catch_warnings():  # W147 was given above, for this same grouping
                warnings.filterwarnings("ignore", message=r"\[W147\]", category=ZhiliWarning)
                self.k_search_ = search_k(dtm, ks=ks, method="lda" if method == "dmr" else method,
                                          random_state=self.random_state, n_jobs=self.n_jobs,
                                          min_tokens=self.min_tokens, max_k=limit, idf_by=self.idf_by)
            k = self.k_search_.recommended_k
        _check_k(k, X)
        themes = self._themes()
        seeds = _seed_columns(themes, dtm.vocabulary, k)
        max_iter = self.max_iter or MAX_ITER[method]
        fit_rows = _fit_rows(X, k, self.min_tokens)
        if method == "nmf":
            state = _fit_nmf(X, k, self.random_state, max_iter, seeds, fit_rows, groups)
        elif method == "dmr":
            if seeds:
                raise ZhiliError(E.E146, detail="themes= (guided topics) are not available with method='dmr'")
            from .dmr import fit_dmr

            state = fit_dmr(X, dtm.docvars, dtm.vocabulary, k, covariates, self.random_state, max_iter, fit_rows)
        else:
            state = _fit_lda(X, k, self.random_state, max_iter, seeds, fit_rows)
            self._stream = _stream_totals(state, X)
        self._set_fitted(state, dtm, method, k, seeds, themes)
        return self

    def fit_transform(self, X: DTM | sp.spmatrix | np.ndarray | pd.DataFrame, y: object = None,
                      **fit_params: object) -> np.ndarray:
        """Fit, then return the fitted units' topic shares (``doc_topic_``, rows sum to 1): the
        shares ``transform(X)`` gives them."""
        return self.fit(X, y, **fit_params).doc_topic_.copy()

    @property
    def partial_fit(self) -> Callable[..., TopicModel]:
        """``partial_fit(X, y=None)`` updates an online LDA with one chunk; it exists for
        ``method='lda'``, and ``'auto'`` before a fit (as scikit-learn's ``MLPClassifier`` has one
        for its stochastic solvers only). Other models have none: E042, also an ``AttributeError``."""
        method = self.method_ if self.__sklearn_is_fitted__() else self.method
        if method in ("nmf", "dmr"):
            raise NoPartialFitError(E.E042, method=f"{method} (partial_fit)", available="lda, auto")
        return self._partial_fit

    def _partial_fit(self, X: DTM | sp.spmatrix | np.ndarray | pd.DataFrame, y: object = None) -> TopicModel:
        """Update an online LDA with one chunk (for corpora larger than memory).

        The first chunk (or a previous :meth:`fit` with ``method='lda'``) fixes the
        vocabulary; later chunks are aligned to it by term. Memory does not grow with the
        number of chunks: ``doc_topic_``, ``doc_topic_concentration_`` and ``docvars_`` hold
        the last chunk's units, ``topic_sizes_`` and ``term_frequency_`` are running totals
        over every unit seen (``n_units_seen_``); call ``transform`` for any chunk's shares.
        """
        if self.idf_by is not None:  # never silently an LDA without the grouped idf asked for
            raise ZhiliError(E.E147, detail="partial_fit updates an online LDA, which is fitted on counts, not "
                                            "tf-idf; use fit with method='nmf'")
        fitted = self.__sklearn_is_fitted__()
        dtm = _as_dtm(X) if not fitted else _as_dtm(X, self.vocabulary_)
        if not fitted:
            _resolve_method(self.method, default="lda")  # E042 for an unknown method
            X = _check_dtm(dtm)
            _check_k(self.n_topics, X, n_docs=None)
            from sklearn.decomposition import LatentDirichletAllocation

            lda = LatentDirichletAllocation(n_components=self.n_topics, learning_method="online",
                                            learning_offset=10.0, random_state=self.random_state)
            vocabulary = np.asarray(dtm.vocabulary, dtype=object)
            totals = (np.zeros(self.n_topics), np.zeros(X.shape[1]), 0)
            n_topics = int(self.n_topics)
        else:
            X = self._align(dtm)
            lda, vocabulary, totals, n_topics = self._backend["lda"], self.vocabulary_, self._stream, self.n_topics_
        lda.partial_fit(X)
        gamma = _lda_gamma(lda, X)
        state = _lda_state(lda, gamma, X)
        chunk = _stream_totals(state, X)
        totals = (totals[0] + chunk[0], totals[1] + chunk[1], totals[2] + chunk[2])
        state["sizes"] = totals[0] / max(totals[0].sum(), 1e-300)
        state["term_frequency"] = totals[1] / max(totals[1].sum(), 1e-300)
        names = getattr(self, "topic_names_", None)
        self._reset()
        self._stream = totals
        self._set_fitted(state, dtm, "lda", n_topics, [], None, vocabulary=vocabulary)
        self.doc_lengths_ = np.asarray(X.sum(axis=1)).ravel()  # in the fitted vocabulary
        self.n_units_seen_ = totals[2]
        if names is not None:
            self.topic_names_ = names
        return self

    def _set_fitted(self, state: dict, dtm: DTM, method: str, k: int, seeds: list,
                    themes: Mapping[str, Sequence[str]] | None, vocabulary: np.ndarray | None = None) -> None:
        self.method_ = method
        self.n_topics_ = int(k)
        self.vocabulary_ = np.asarray(dtm.vocabulary if vocabulary is None else vocabulary, dtype=object)
        self.n_features_in_ = len(self.vocabulary_)
        self.topic_term_ = state["topic_term"]
        self.components_ = self.topic_term_  # scikit-learn's name for the same K x V matrix
        self.doc_topic_ = state["doc_topic"]
        self.doc_topic_concentration_ = state["concentration"]
        self.doc_lengths_ = np.asarray(sp.csr_matrix(dtm.matrix).sum(axis=1)).ravel()  # 0: a unit without terms
        self.topic_sizes_ = state["sizes"]
        self.term_frequency_ = state["term_frequency"]
        self.n_iter_ = int(state["n_iter"])
        self.converged_ = bool(state["converged"])
        self._backend = state["backend"]
        self.docvars_ = dtm.docvars.reset_index(drop=True).copy()
        self.labels_ = [LABEL_SEPARATOR.join(t) for t in self.top_terms(LABEL_TERMS, by="frex")]
        self.topic_names_ = self._names_with_defaults({i: theme for i, (theme, _) in enumerate(seeds)}) if seeds else None
        self.corpus_hash_ = dtm_hash(dtm) if vocabulary is None else None
        self.settings_ = {"n_topics": self.n_topics_, "n_topics_requested": self.n_topics, "method": method,
                          "method_requested": self.method, "max_iter": self.max_iter or MAX_ITER[method],
                          "n_iter": self.n_iter_, "converged": self.converged_,
                          "min_tokens": self.min_tokens,
                          "random_state": self.random_state,
                          "covariates": self._backend["covariates"].describe() if method == "dmr" else None,
                          "idf_by": self.idf_by,
                          "themes": {t: list(w) for t, w in (themes or {}).items()},
                          "dtm_meta": _jsonable_meta(dtm.meta)}

    # --- new documents -----------------------------------------------------------------------

    def transform(self, X: DTM | sp.spmatrix | np.ndarray | pd.DataFrame) -> np.ndarray:
        """Topic shares (rows sum to 1) of new units. A DTM is aligned to ``vocabulary_`` by
        term; a plain matrix must have the fitted number of columns, in the same order."""
        dtm = _as_dtm(X, self.vocabulary_ if self.__sklearn_is_fitted__() else None)
        X = self._align(dtm)
        if self.method_ == "nmf":
            H = self._backend["HT"]
            T = _tfidf(X, self._backend["idf"])
            W = _fold_in(T, H, self._backend["max_iter"])
            return _normalise_rows(W)
        if self.method_ == "dmr":
            from .dmr import transform

            return transform(self._backend, X, dtm.docvars, self.vocabulary_)
        return np.asarray(self._backend["lda"].transform(X), dtype=np.float64)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The names of ``transform``'s columns: ``topic_0 … topic_{K-1}`` (as in ``doc_topics.csv``)."""
        self._require_fitted()
        return np.array([f"topic_{i}" for i in range(self.n_topics_)], dtype=object)

    def _align(self, dtm: DTM) -> sp.csr_matrix:
        self._require_fitted()
        X = _check_dtm(dtm, check_empty=False)
        vocab = np.asarray(dtm.vocabulary, dtype=object)
        if len(vocab) == len(self.vocabulary_) and np.array_equal(vocab, self.vocabulary_):
            return X
        index = {t: i for i, t in enumerate(self.vocabulary_)}
        target = np.array([index.get(t, -1) for t in vocab], dtype=np.int64)
        keep = np.flatnonzero(target >= 0)
        if not len(keep):
            raise ZhiliError(E.E045)
        move = sp.csr_matrix((np.ones(len(keep)), (keep, target[keep])), shape=(len(vocab), len(self.vocabulary_)))
        return (X @ move).tocsr()

    # --- reading the topics ------------------------------------------------------------------

    def top_terms(self, n: int = 10, by: str = "prob", lam: float = 0.6) -> list[list[str]]:
        """The ``n`` top terms of every topic ranked by ``'prob'`` p(w|t), ``'frex'`` (R stm:
        harmonic mean of the within-topic ECDF ranks of exclusivity and frequency, weight
        0.5), ``'lift'`` p(w|t)/p(w) or ``'relevance'`` (LDAvis: lam*log p(w|t) + (1-lam)*log lift).
        """
        scores = self.term_scores(by, lam)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :n]
        return [self.vocabulary_[row].tolist() for row in order]

    def term_scores(self, by: str = "prob", lam: float = 0.6) -> np.ndarray:
        """K x V scores behind :meth:`top_terms` (higher ranks first)."""
        self._require_fitted()
        beta = self.topic_term_
        if by == "prob":
            return beta
        if by == "frex":
            return frex(beta)
        lift = beta / np.maximum(self.term_frequency_, 1e-300)
        if by == "lift":
            return lift
        if by == "relevance":
            tiny = 1e-300
            return lam * np.log(beta + tiny) + (1 - lam) * np.log(lift + tiny)
        raise ZhiliError(E.E049, by=by)

    def name_topics(self, names: Mapping[int, str] | Sequence[str]) -> TopicModel:
        """Name topics (a full list, or ``{topic: name}`` for some); unnamed ones keep their label."""
        self._require_fitted()
        k = self.n_topics_
        if isinstance(names, Mapping):
            bad = [i for i in names if not isinstance(i, (int, np.integer)) or not 0 <= i < k]
            if bad:
                raise ZhiliError(E.E046, k=k, n=f"{len(names)} (topic numbers must be 0..{k - 1}; got {bad})")
            named = {int(i): str(v) for i, v in names.items()}
        else:
            names = list(names)
            if len(names) != k:
                raise ZhiliError(E.E046, k=k, n=len(names))
            named = dict(enumerate(map(str, names)))
        self.topic_names_ = self._names_with_defaults({**dict(enumerate(self.topic_names_ or [])), **named}
                                                      if self.topic_names_ else named)
        return self

    def _names_with_defaults(self, named: Mapping[int, str]) -> list[str]:
        return [named.get(i, self.labels_[i]) for i in range(self.n_topics_)]

    # --- thin wrappers of the module functions (kept for existing code) -------------------------

    def topics_table(self, n: int = 10) -> pd.DataFrame:
        """Wrapper of :func:`topics_table`."""
        return topics_table(self, n)

    def doc_topics_table(self) -> pd.DataFrame:
        """Wrapper of :func:`doc_topics_table`."""
        return doc_topics_table(self)

    def topic_terms_table(self, n: int = 30) -> pd.DataFrame:
        """Wrapper of :func:`topic_terms_table`."""
        return topic_terms_table(self, n)

    def representative_passages(self, corpus, n: int = 3, max_chars: int = 200, by: str | None = None) -> pd.DataFrame:
        """Wrapper of :func:`representative_passages`."""
        return representative_passages(self, corpus, n, max_chars, by=by)

    def save(self, path: str | Path) -> Path:
        """Wrapper of :func:`save_model`."""
        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> TopicModel:
        """Wrapper of :func:`load_model`."""
        return load_model(path, cls)

    def _require_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise TopicModelNotFittedError(E.E056)


_PRIVATE_STATE = ("_backend", "_stream", "_posterior_draws")


# --- tables of a fitted model ---------------------------------------------------------------

def topics_table(model: TopicModel, n: int = 10) -> pd.DataFrame:
    """One row per topic: ``topic, name, label, share, top_terms, frex_terms`` (terms space-separated)."""
    model._require_fitted()
    names = model.topic_names_ or model.labels_
    return pd.DataFrame({
        "topic": np.arange(model.n_topics_), "name": names, "label": model.labels_,
        "share": np.round(model.topic_sizes_, 6),
        "top_terms": [" ".join(t) for t in model.top_terms(n, by="prob")],
        "frex_terms": [" ".join(t) for t in model.top_terms(n, by="frex")],
    })


def doc_topics_table(model: TopicModel) -> pd.DataFrame:
    """``doc_id``, ``position`` (only for paragraphs/sentences), the docvars, ``topic_0 …``."""
    model._require_fitted()
    dv = model.docvars_.drop(columns=[c for c in ("text",) if c in model.docvars_.columns])
    if "position" in dv.columns and not (pd.to_numeric(dv["position"], errors="coerce").fillna(0) > 0).any():
        dv = dv.drop(columns="position")
    shares = pd.DataFrame(np.round(model.doc_topic_, 6), columns=list(model.get_feature_names_out()))
    return pd.concat([dv.reset_index(drop=True), shares], axis=1)


def topic_terms_table(model: TopicModel, n: int = 30) -> pd.DataFrame:
    """Long form for the explorer: ``topic, name, rank, term, weight`` (p(w|t)), ``frex_rank``
    (1 = most FREX within the topic), ``lift`` and ``term_share`` (p(w) in the corpus).
    """
    model._require_fitted()
    beta = model.topic_term_
    order = np.argsort(-beta, axis=1, kind="stable")[:, :n]
    frex_order = np.argsort(-frex(beta), axis=1, kind="stable")
    frex_rank = np.empty_like(frex_order)
    rows = np.arange(beta.shape[0])[:, None]
    frex_rank[rows, frex_order] = np.arange(1, beta.shape[1] + 1)
    names = model.topic_names_ or model.labels_
    k, m = order.shape
    topic = np.repeat(np.arange(k), m)
    cols = order.ravel()
    weight = beta[topic, cols]
    share = model.term_frequency_[cols]
    return pd.DataFrame({"topic": topic, "name": np.array(names, dtype=object)[topic],
                         "rank": np.tile(np.arange(1, m + 1), k), "term": model.vocabulary_[cols],
                         "weight": np.round(weight, 8), "frex_rank": frex_rank[topic, cols],
                         "lift": np.round(weight / np.maximum(share, 1e-300), 4), "term_share": np.round(share, 8)})


def representative_passages(model: TopicModel, corpus, n: int = 3, max_chars: int = 200,
                            by: str | None = None) -> pd.DataFrame:
    """The ``n`` most typical units of each topic (per group of ``by`` when given), as
    passages in the original script.

    Ranked by the topic's share, then by length (longer first), then by position in the
    corpus — so ties (many short units share 1.0) do not fall back to sort order — from
    distinct documents first (a document's further units only when there are fewer than
    ``n`` documents). Units of fewer than ``MIN_PASSAGE_TOKENS`` tokens
    (headings, one-liners) are passed over when there are enough longer ones.

    ``corpus`` is the :class:`~zhili.corpus.Corpus` the DTM was built from (row-aligned).
    The passage is a ``max_chars`` window starting shortly before the first top term.
    Columns: ``topic, doc_id, position, weight, passage`` (and ``by, group`` with ``by``).
    """
    model._require_fitted()
    docs = corpus.docs.reset_index(drop=True)
    if len(docs) != model.doc_topic_.shape[0]:
        raise ZhiliError(E.E048, n_corpus=len(docs), n_model=model.doc_topic_.shape[0])
    from .normalize import to_simplified

    terms = model.top_terms(5, by="frex")
    prior = model._backend.get("prior_total", 1.0 if model.method_ == "nmf" else 0.0)
    n_tokens = model.doc_topic_concentration_.sum(axis=1) - prior
    substantive = n_tokens >= MIN_PASSAGE_TOKENS
    eligible = substantive if substantive.sum() >= n * model.n_topics_ else np.ones(len(n_tokens), bool)
    doc_ids = docs["doc_id"].astype(str).to_numpy()
    if by is None:
        group_of, groups, name = np.zeros(len(docs), dtype=np.int64), [None], None
    else:
        from .grouping import make_grouping

        grouping = make_grouping(model.docvars_, by, what="representative passages")
        group_of, groups, name = grouping.unit_group, grouping.values, grouping.name
    out = []
    for g, group in enumerate(groups):
        in_group = eligible & (group_of == g)
        for t in range(model.n_topics_):
            share = np.round(model.doc_topic_[:, t], 9)
            order = np.lexsort((np.arange(len(share)), -n_tokens, -share))
            order = order[in_group[order]]
            _, first = np.unique(doc_ids[order], return_index=True)
            distinct = np.zeros(len(order), dtype=bool)
            distinct[first] = True
            picked = np.concatenate([order[distinct], order[~distinct]])[:n]  # other documents' units only to fill up
            for r in picked:
                text = str(corpus.text_at(int(r)))
                row = {"topic": t, "doc_id": docs.at[r, "doc_id"],
                       "position": int(docs.at[r, "position"]) if "position" in docs.columns else 0,
                       "weight": round(float(model.doc_topic_[r, t]), 6),
                       "passage": _passage(text, to_simplified(text), terms[t], max_chars)}
                out.append(row if by is None else {"by": name, "group": group, **row})
    columns = ["topic", "doc_id", "position", "weight", "passage"]
    return pd.DataFrame(out, columns=columns if by is None else ["by", "group", *columns])


# --- persistence ------------------------------------------------------------------------------

def save_model(model: TopicModel, path: str | Path) -> Path:
    """A folder with ``manifest.json`` (versions, settings, corpus and vocabulary hashes,
    names) and ``model.joblib`` (arrays, docvars and the fitted backend)."""
    import joblib

    from .manifest import library_versions, write_json

    model._require_fitted()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v for k, v in vars(model).items()
             if (k.endswith("_") and not k.startswith("__")) or k == "_backend"}
    params = model.get_params()
    params["search_ks"] = list(params["search_ks"])
    joblib.dump({"params": params, "state": state}, path / "model.joblib", compress=3)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "libraries": library_versions() | {"joblib": joblib.__version__},
                "settings": model.settings_, "method": model.method_, "n_topics": model.n_topics_,
                "corpus_sha256": model.corpus_hash_, "vocabulary_sha256": _sha256_terms(model.vocabulary_),
                "n_units": int(model.doc_topic_.shape[0]), "n_terms": int(len(model.vocabulary_)),
                "labels": model.labels_, "topic_names": model.topic_names_}
    write_json(manifest, path / "manifest.json")
    return path


def load_model(path: str | Path, cls: type | None = None) -> TopicModel:
    """A model written by :func:`save_model`; anything else raises E044.

    ``model.joblib`` is a pickle: load only models you (or a run you trust) wrote.
    """
    import joblib

    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ZhiliError(E.E044, path=path, detail=f"no readable manifest.json: {exc.__class__.__name__}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ZhiliError(E.E044, path=path, detail="manifest.json is not a topic-model manifest")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ZhiliError(E.E044, path=path, detail=f"format {manifest['format_version']} is newer than this zhili")
    try:
        saved = joblib.load(path / "model.joblib")
    except Exception as exc:  # any unreadable payload is the user's file, not our bug
        raise ZhiliError(E.E044, path=path, detail=f"model.joblib cannot be read: {exc.__class__.__name__}") from None
    params = dict(saved["params"])
    if "seed_topics" in params and "themes" not in params:  # written before themes= existed
        params["themes"] = params.pop("seed_topics")
    model = (cls or TopicModel)(**params)
    for k, v in saved["state"].items():
        setattr(model, k, v)
    if not hasattr(model, "components_"):  # written before the scikit-learn names
        model.components_ = model.topic_term_
        model.n_features_in_ = len(model.vocabulary_)
    return model


def _as_dtm(X: object, vocabulary: np.ndarray | None = None) -> DTM:
    """A DTM as it is; a counts matrix (sparse, numpy, DataFrame) wrapped as one.

    Without column names, the vocabulary is the fitted one (``vocabulary``; the column
    count must match) or ``x0, x1 …``.
    """
    if isinstance(X, DTM):
        return X
    from sklearn.utils.validation import check_array, check_non_negative

    columns = None
    if isinstance(X, pd.DataFrame):
        columns = np.asarray([str(c) for c in X.columns], dtype=object)
        X = sp.csr_matrix(X.sparse.to_coo()) if hasattr(X, "sparse") and all(
            isinstance(t, pd.SparseDtype) for t in X.dtypes) else X.to_numpy()
    matrix = check_array(X, accept_sparse="csr", dtype=np.float64)
    check_non_negative(matrix, "TopicModel")
    matrix = sp.csr_matrix(matrix)
    if columns is None:
        if vocabulary is not None:
            if matrix.shape[1] != len(vocabulary):
                raise ValueError(f"X has {matrix.shape[1]} features, but TopicModel is expecting "
                                 f"{len(vocabulary)} features as input.")
            columns = np.asarray(vocabulary, dtype=object)
        else:
            columns = np.array([f"x{i}" for i in range(matrix.shape[1])], dtype=object)
    docvars = pd.DataFrame({"doc_id": [str(i) for i in range(matrix.shape[0])]})
    return DTM(matrix, columns, docvars, "count", {})


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"The '{name}' parameter of TopicModel must be an int >= {minimum}; got {value!r}.")
    return int(value)


# --- choosing K ------------------------------------------------------------------------------

@dataclass
class KSearch:
    """The result of :func:`search_k`: one row per K, the recommendation and the reason."""

    table: pd.DataFrame
    recommended_k: int
    reason: str


def search_k(dtm: DTM, ks: Iterable[int] = range(5, 41, 5), method: str = "auto", n_seeds: int = 3,
             random_state: int = 42, n_jobs: int = -1, min_tokens: int = MIN_TOKENS,
             progress: bool | None = None, max_k: int | None = None, widen: bool = True,
             refine: bool = True, idf_by: str | None = None) -> KSearch:
    """Fit every K ``n_seeds`` times, measure it, and recommend a K without edge bias.

    Run 0 fits a seeded 90 % of the units; the other 10 % give the held-out ``perplexity``
    for every method by document completion (each held-out unit's tokens are split in two
    halves: its topic shares are folded in on one half — for NMF with the topics fixed —
    and the other half is scored under ``shares @ topic_term_``). Runs 1..n_seeds-1 fit a
    random 80 % of units with seed ``random_state + i``. ``coherence_npmi``: mean NPMI of
    each topic's top-10 terms over the corpus's own document co-occurrence;
    ``exclusivity``: mean p(w|t)/sum_t p(w|t) over top-10 terms; ``diversity``: share of
    unique terms among all topics' top-25; ``stability``: topics of run 0 and run i matched
    by the Hungarian algorithm on cosine similarity, mean similarity — as in Greene, O'Callaghan &
    Cunningham (2014), NMF starts from NNDSVDa, whose only randomness is a randomized SVD, so this
    mostly measures how far the topics hold when a fifth of the units change; ``frontier``: not
    dominated on both coherence and exclusivity by another K (stm's ``searchK`` picture).

    Rule: among the Ks on the coherence–exclusivity frontier, the recommended K has the
    highest mean of the z-scores (across the Ks tried) of coherence, exclusivity,
    stability and held-out fit (minus log perplexity); ties go to the smaller K. When it is
    the smallest or largest K tried, the range is widened beyond that edge (up to
    ``max_k``, down to 2) and the rule applied again, up to three times (``widen``); then
    the K halfway to each neighbour is tried (``refine``, coarse-to-fine). ``n_jobs``:
    fits run in parallel processes (-1 = all cores) when the corpus is large enough to gain
    (``PARALLEL_MIN_NNZ`` non-zero cells), else serially. ``idf_by``: as :class:`TopicModel`'s.

    >>> from zhili.corpus import corpus_from_texts
    >>> from zhili.dtm import dtm
    >>> from zhili.tokens import tokens
    >>> texts = ["网格员 网格 巡查 网格化"] * 5 + ["调解 矛盾纠纷 信访"] * 5 + ["养老 托育 医疗"] * 5
    >>> result = search_k(dtm(tokens(corpus_from_texts(texts), cache=False)), ks=[2, 3], n_seeds=2, widen=False)
    >>> result.table[["k", "diversity", "recommended"]].values.tolist()
    [[2, 0.5, False], [3, 0.3333333333333333, True]]
    """
    method = _resolve_method(method)
    X = _check_dtm(dtm)
    groups = idf_groups(dtm, idf_by, method)
    n_fit = int(_n_nonempty(X) * 0.8)  # stability runs refit on 80 % of the units
    limit = n_fit if n_seeds > 1 else _n_nonempty(X)
    max_k = min(limit, max_k) if max_k is not None else limit
    ks = sorted({int(_check_k(k, X, n_docs=n_fit if n_seeds > 1 else -1)) for k in ks})
    if not ks:
        raise ZhiliError(E.E040, k="an empty list of candidates")
    n_seeds = max(1, n_seeds)
    workers = 1 if X.nnz < PARALLEL_MIN_NNZ else n_workers(n_jobs)  # joblib's loky processes
    show = sys.stderr.isatty() if progress is None else progress
    binary = (X > 0).astype(np.float64).tocsc()
    runs: dict[tuple[int, int], tuple[np.ndarray, float]] = {}

    def measure(new: list[int]) -> None:
        from joblib import Parallel, delayed

        jobs = [(k, i) for k in new for i in range(n_seeds)]
        results = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_search_run)(X, k, i, method, random_state, min_tokens, groups) for k, i in jobs)
        runs.update(zip(jobs, tqdm(results, total=len(jobs), desc="search K", unit="fit", disable=not show,
                                   leave=False)))

    measure(ks)
    steps: list[str] = []
    table, best = _k_table(runs, ks, n_seeds, binary)
    for _ in range(MAX_WIDEN if widen else 0):
        k, step = int(table.at[best, "k"]), max(1, ks[1] - ks[0] if len(ks) > 1 else 1)
        if k == ks[0] and k > 2 and len(ks) > 1:
            new = sorted({max(2, k - step), max(2, k - max(1, step // 2))} - set(ks))
            side = "smallest"
        elif k == ks[-1] and k < max_k and len(ks) > 1:
            step = max(1, ks[-1] - ks[-2])
            new = sorted({min(max_k, k + step), min(max_k, k + 2 * step)} - set(ks))
            side = "largest"
        else:
            break
        if not new:
            break
        steps.append(f"K={k} was the {side} K tried, so K = {', '.join(map(str, new))} were added")
        measure(new)
        ks = sorted(ks + new)
        table, best = _k_table(runs, ks, n_seeds, binary)
    k = int(table.at[best, "k"])
    if refine and 0 < best < len(ks) - 1:
        new = sorted({(k + ks[best - 1]) // 2, (k + ks[best + 1] + 1) // 2} - set(ks))
        if new:
            steps.append(f"then K = {', '.join(map(str, new))} between K={k} and its neighbours (coarse to fine)")
            measure(new)
            ks = sorted(ks + new)
            table, best = _k_table(runs, ks, n_seeds, binary)
            k = int(table.at[best, "k"])
    row = table.iloc[best]
    reason = (f"K={k} has the highest mean of standardised coherence (NPMI {row.coherence_npmi:.3f}), "
              f"exclusivity ({row.exclusivity:.3f})"
              + (f", stability ({row.stability:.3f})" if n_seeds > 1 else "")
              + (f" and held-out fit (perplexity {row.perplexity:.1f})" if np.isfinite(row.perplexity) else "")
              + f" among the Ks on the coherence–exclusivity frontier of K = {_ranges(ks)}.")
    if steps:
        text = "; ".join(steps)
        reason += " " + text[0].upper() + text[1:] + "."
    if len(ks) > 2 and k in (ks[0], ks[-1]):
        side = "largest" if k == ks[-1] else "smallest"
        cannot = "the corpus carries no more topics" if side == "largest" and k >= max_k else \
            "K cannot go below 2" if k <= 2 else "widen the range to check"
        reason += f" K={k} is still the {side} K tried ({cannot}); the best K may lie outside this range."
    return KSearch(table, k, reason)


PARALLEL_MIN_NNZ = 50_000  # below this, starting worker processes costs more than the fits
MAX_WIDEN = 3
HELD_OUT = 0.1


def _ranges(ks: list[int]) -> str:
    return ", ".join(map(str, ks))


def _k_table(runs: dict, ks: list[int], n_seeds: int, binary: sp.csc_matrix) -> tuple[pd.DataFrame, int]:
    rows = []
    for k in ks:
        beta0, perplexity = runs[(k, 0)]
        others = [runs[(k, i)][0] for i in range(1, n_seeds)]
        rows.append({"k": k, "perplexity": perplexity,
                     "coherence_npmi": float(np.mean(coherence_npmi(beta0, binary))),
                     "exclusivity": exclusivity(beta0), "diversity": diversity(beta0),
                     "stability": float(np.mean([match_topics(beta0, b)[1].mean() for b in others])) if others else np.nan})
    table = pd.DataFrame(rows)
    table["frontier"] = _frontier(table["coherence_npmi"].to_numpy(), table["exclusivity"].to_numpy())
    measures = table[["coherence_npmi", "exclusivity"]].copy()
    if n_seeds > 1:
        measures["stability"] = table["stability"]
    if table["perplexity"].notna().all():
        measures["fit"] = -np.log(table["perplexity"])
    z = measures.apply(lambda s: (s - s.mean()) / s.std(ddof=0) if s.std(ddof=0) > 0 else s * 0)
    score = z.mean(axis=1).round(12)
    candidates = np.where(table["frontier"].to_numpy(), score.to_numpy(), -np.inf)
    best = int(np.flatnonzero(candidates == candidates.max())[0])
    table["score"] = score
    table["recommended"] = np.arange(len(table)) == best
    return table[["k", "perplexity", "coherence_npmi", "exclusivity", "diversity", "stability", "score",
                  "frontier", "recommended"]], best


def _frontier(coherence: np.ndarray, exclusivity_: np.ndarray) -> np.ndarray:
    """True where no other point is at least as good on both and better on one."""
    out = np.ones(len(coherence), dtype=bool)
    for i in range(len(coherence)):
        better = (coherence >= coherence[i]) & (exclusivity_ >= exclusivity_[i]) & \
            ((coherence > coherence[i]) | (exclusivity_ > exclusivity_[i]))
        out[i] = not better.any()
    return out


def _search_run(X: sp.csr_matrix, k: int, i: int, method: str, random_state: int,
                min_tokens: int, groups: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(random_state + i)
    n = X.shape[0]
    order = rng.permutation(n)
    train = np.sort(order[: int(round(n * ((1 - HELD_OUT) if i == 0 else 0.8)))])
    Xt = X[train]
    fit_rows = _fit_rows(Xt, k, min_tokens)
    if method == "nmf":
        state = _fit_nmf(Xt, k, random_state + i, MAX_ITER["nmf"], [], fit_rows,
                         None if groups is None else groups[train])
    else:
        state = _fit_lda(Xt, k, random_state + i, MAX_ITER["lda"], [], fit_rows)
    perplexity = np.nan
    if i == 0:
        held = np.setdiff1d(np.arange(n), train)
        perplexity = heldout_perplexity(state, X[held], method, rng) if len(held) else np.nan
    return state["topic_term"], perplexity


def heldout_perplexity(state: dict, X: sp.csr_matrix, method: str, rng: np.random.Generator) -> float:
    """Document-completion perplexity of held-out units ``X`` (lower is better): each
    unit's tokens are split at random into two halves; shares folded in on the first half
    (topics fixed) predict the second through ``shares @ topic_term``."""
    X = sp.csr_matrix(X, dtype=np.float64)
    first = X.copy()
    first.data = rng.binomial(X.data.astype(np.int64), 0.5).astype(np.float64)
    second = X - first
    second.eliminate_zeros()
    first.eliminate_zeros()
    if second.nnz == 0:
        return np.nan
    if method == "nmf":
        HT = state["backend"]["HT"]
        T = _tfidf(first, state["backend"]["idf"])
        theta = _normalise_rows(_fold_in(T, HT, state["backend"]["max_iter"]))
    else:
        theta = state["backend"]["lda"].transform(first)
    rows = np.repeat(np.arange(second.shape[0]), np.diff(second.indptr))
    p = _nonzero_products(theta, np.ascontiguousarray(state["topic_term"].T), rows, second.indices)
    return float(np.exp(-(second.data @ np.log(np.maximum(p, 1e-300))) / second.data.sum()))


# --- measures (also used by comparisons) --------------------------------------------------

def frex(topic_term: np.ndarray, weight: float = 0.5) -> np.ndarray:
    """FREX scores as in R stm's ``calcfrex`` (without its James-Stein shrinkage).

    >>> frex(np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])).argmax(axis=1).tolist()
    [0, 2]
    """
    from scipy.stats import rankdata

    beta = np.asarray(topic_term, dtype=np.float64)
    v = beta.shape[1]
    excl = beta / np.maximum(beta.sum(axis=0, keepdims=True), 1e-300)
    freq_score = rankdata(beta, axis=1) / v
    excl_score = rankdata(excl, axis=1) / v
    return 1.0 / (weight / excl_score + (1 - weight) / freq_score)


def coherence_npmi(topic_term: np.ndarray, binary_dtm: sp.spmatrix, n: int = 10) -> np.ndarray:
    """Per-topic mean NPMI of the top-``n`` terms' document co-occurrence (-1 if never together)."""
    top = np.argsort(-topic_term, axis=1, kind="stable")[:, :n]
    used = np.unique(top)
    B = sp.csc_matrix(binary_dtm)[:, used]
    B.data[:] = 1.0
    n_docs = B.shape[0]
    co = (B.T @ B).toarray() / n_docs
    p = np.diag(co).copy()
    pos = {t: j for j, t in enumerate(used)}
    out = []
    for row in top:
        idx = [pos[t] for t in row]
        vals = []
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                pij, pi, pj = co[idx[a], idx[b]], p[idx[a]], p[idx[b]]
                if pij <= 0:
                    vals.append(-1.0)
                elif pij >= 1:
                    vals.append(1.0)
                else:
                    vals.append(np.log(pij / (pi * pj)) / -np.log(pij))
        out.append(np.mean(vals) if vals else 0.0)
    return np.array(out)


def exclusivity(topic_term: np.ndarray, n: int = 10) -> float:
    """Mean over topics and their top-``n`` terms of p(w|t) / sum_t' p(w|t')."""
    excl = topic_term / np.maximum(topic_term.sum(axis=0, keepdims=True), 1e-300)
    top = np.argsort(-topic_term, axis=1, kind="stable")[:, :n]
    return float(np.take_along_axis(excl, top, axis=1).mean())


def diversity(topic_term: np.ndarray, n: int = 25) -> float:
    """Share of unique terms among all topics' top-``n`` terms (1 = no overlap)."""
    top = np.argsort(-topic_term, axis=1, kind="stable")[:, :n]
    return float(len(np.unique(top)) / top.size)


def match_topics(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Match rows of ``b`` to rows of ``a`` (Hungarian algorithm on cosine similarity).

    Returns ``(order, similarity)``: ``b[order[i]]`` matches ``a[i]`` with ``similarity[i]``.

    >>> match_topics(np.eye(3), np.eye(3)[[2, 0, 1]])[0].tolist()
    [1, 2, 0]
    """
    from scipy.optimize import linear_sum_assignment

    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-300)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-300)
    sim = an @ bn.T
    rows, cols = linear_sum_assignment(-sim)
    order = np.full(a.shape[0], -1)
    order[rows] = cols
    out = np.zeros(a.shape[0])
    out[rows] = sim[rows, cols]
    return order, out


def dtm_hash(dtm: DTM) -> str:
    """sha256 of the DTM's counts (data, indices, indptr) and vocabulary."""
    m = sp.csr_matrix(dtm.matrix)
    m.sort_indices()
    h = hashlib.sha256()
    for arr in (m.data.astype(np.int64), m.indices.astype(np.int64), m.indptr.astype(np.int64)):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(_sha256_terms(dtm.vocabulary).encode())
    return h.hexdigest()


def _sha256_terms(vocabulary: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(map(str, vocabulary)).encode("utf-8")).hexdigest()


# --- input checks ----------------------------------------------------------------------------

def _resolve_method(method: str, default: str = DEFAULT_METHOD) -> str:
    if method not in METHODS:
        raise ZhiliError(E.E042, method=method, available=", ".join(METHODS))
    return default if method == "auto" else method


def _check_dtm(dtm: DTM, check_empty: bool = True) -> sp.csr_matrix:
    if getattr(dtm, "weighting", "count") != "count":
        raise ZhiliError(E.E047, weighting=dtm.weighting)
    if check_empty and dtm.shape[1] == 0:
        trim = dtm.meta.get("trim", {})
        raise ZhiliError(E.E030, min_df=trim.get("min_df", "?"), max_df=trim.get("max_df", "?"),
                         max_features=trim.get("max_features", "?"))
    return sp.csr_matrix(dtm.matrix, dtype=np.float64)


def _n_nonempty(X: sp.csr_matrix) -> int:
    return int((np.diff(X.indptr) > 0).sum())


def _check_k(k: object, X: sp.csr_matrix, n_docs: int | None = -1) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ZhiliError(E.E040, k=repr(k))
    n = _n_nonempty(X) if n_docs == -1 else n_docs
    if n is not None and n < k:
        raise ZhiliError(E.E041, n_docs=n, k=k)
    if k > X.shape[1]:  # NMF's start needs a singular vector per topic
        raise ZhiliError(E.E040, k=f"{k} (more than the {X.shape[1]} terms of the vocabulary, n_features={X.shape[1]})")
    return int(k)


def _fit_rows(X: sp.csr_matrix, k: int, min_tokens: int) -> np.ndarray:
    """Units long enough to fit on (all non-empty units if fewer than ``k`` are)."""
    lengths = np.asarray(X.sum(axis=1)).ravel()
    rows = lengths >= max(min_tokens, 1)
    return rows if rows.sum() >= k else lengths > 0


def _seed_columns(seed_topics: Mapping[str, Sequence[str]] | None, vocabulary: np.ndarray,
                  k: int) -> list[tuple[str, np.ndarray]]:
    """``[(theme, vocabulary columns of its seed words)]``; E043 if a theme has none."""
    if not seed_topics:
        return []
    if len(seed_topics) > k:
        raise ZhiliError(E.E040, k=f"{k} (fewer than the {len(seed_topics)} seeded themes)")
    index = {t: i for i, t in enumerate(vocabulary)}
    out = []
    for theme, words in seed_topics.items():
        words = [words] if isinstance(words, str) else list(words)
        missing = [w for w in words if w not in index]
        cols = np.array(sorted({index[w] for w in words if w in index}), dtype=np.int64)
        if not len(cols):
            raise ZhiliError(E.E043, theme=theme, missing=", ".join(missing) or "(no seed words given)")
        if missing:
            warnings.warn(f"Seed words not in the vocabulary for theme '{theme}': {', '.join(missing)}; "
                          f"using {', '.join(vocabulary[cols])}.", ZhiliWarning, stacklevel=3)
        out.append((str(theme), cols))
    return out


def _jsonable_meta(meta: dict) -> dict:
    return json.loads(json.dumps(meta, ensure_ascii=False, default=str))


# --- NMF (KL divergence on tf-idf) -------------------------------------------------------------

def _tfidf(X: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """(1 + log count) x idf, rows L2-normalised: scikit-learn's ``TfidfTransformer(sublinear_tf=True)``
    with the fitted corpus's ``idf``."""
    from sklearn.feature_extraction.text import TfidfTransformer

    transformer = TfidfTransformer(sublinear_tf=True)
    transformer.idf_ = idf
    return sp.csr_matrix(transformer.transform(sp.csr_matrix(X, dtype=np.float64)))


def _smooth_idf(X: sp.csr_matrix, groups: np.ndarray | None = None) -> np.ndarray:
    """scikit-learn's smooth idf, ``log((1 + n) / (1 + df)) + 1``; with ``groups`` (a group
    label per unit), ``n`` counts groups and ``df`` the groups with a unit that uses the term."""
    from sklearn.feature_extraction.text import TfidfTransformer

    if groups is not None:
        _, inverse = np.unique(groups, return_inverse=True)
        members = sp.csr_matrix((np.ones(len(inverse)), (inverse, np.arange(len(inverse)))),
                                shape=(int(inverse.max()) + 1 if len(inverse) else 0, X.shape[0]))
        X = members @ (X > 0).astype(np.float64)
    return TfidfTransformer(sublinear_tf=True).fit(X).idf_


def check_idf_by(idf_by: object, columns: Iterable[object], plain: bool = False) -> None:
    """E147 unless ``idf_by`` names one of the document variables ``columns`` (``plain``: the
    units are rows of a counts matrix, which has none)."""
    columns = list(columns)
    if plain or not isinstance(idf_by, str) or idf_by not in columns:
        available = "(none: a plain matrix; fit on a zhili DTM)" if plain else ", ".join(map(str, columns)) or "(none)"
        raise ZhiliError(E.E147, detail=f"'{idf_by}' is not a document variable; available: {available}")


def idf_groups(dtm: DTM, idf_by: str | None, method: str, plain: bool = False) -> np.ndarray | None:
    """Each unit's group for ``idf_by`` (integer codes; a unit with no value is a group of its
    own), or ``None`` without ``idf_by``; E147 for another method than NMF or an unknown variable.
    ``plain``: ``dtm`` wraps a counts matrix (its ``doc_id`` only numbers the rows), so it has no
    variable to group by.

    >>> from zhili.corpus import corpus_from_texts
    >>> from zhili.dtm import dtm
    >>> from zhili.tokens import tokens
    >>> units = corpus_from_texts(["网格员 巡查\\n\\n调解 信访", "养老 托育"]).reshape("paragraph")
    >>> idf_groups(dtm(tokens(units, cache=False)), "doc_id", "nmf").tolist()
    [0, 0, 1]
    """
    if idf_by is None:
        return None
    if method != "nmf":
        raise ZhiliError(E.E147, detail=f"method '{method}' is fitted on counts, not tf-idf; use method='nmf'")
    check_idf_by(idf_by, [] if plain else dtm.docvars.columns, plain)
    codes, _ = pd.factorize(dtm.docvars[idf_by].reset_index(drop=True), use_na_sentinel=True)
    missing = codes < 0
    if missing.any():  # said, as --by says it (W171): the grouping is partly (or wholly) not applied
        from .errors import W, warning_text

        note = ", so idf_by changes nothing" if missing.all() else ""
        warnings.warn(warning_text(W.W147, n=int(missing.sum()), total=len(codes), var=idf_by, note=note),
                      ZhiliWarning, stacklevel=3)
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def _nndsvda(T: sp.csr_matrix, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """NNDSVD start (Boutsidis & Gallopoulos 2008) with zeros filled by the mean ('a' variant).

    Returns ``W`` (n x k) and ``HT`` (V x k, columns summing to 1; W absorbs the scale).
    """
    from sklearn.utils.extmath import randomized_svd

    U, S, Vt = randomized_svd(T, k, random_state=random_state)
    W = np.zeros_like(U)
    H = np.zeros_like(Vt)
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0] = np.sqrt(S[0]) * np.abs(Vt[0])
    for j in range(1, k):
        x, y = U[:, j], Vt[j]
        xp, yp, xn, yn = np.maximum(x, 0), np.maximum(y, 0), np.maximum(-x, 0), np.maximum(-y, 0)
        xpn, ypn, xnn, ynn = map(np.linalg.norm, (xp, yp, xn, yn))
        mp, mn = xpn * ypn, xnn * ynn
        u, v, sigma = (xp / max(xpn, 1e-300), yp / max(ypn, 1e-300), mp) if mp > mn else \
            (xn / max(xnn, 1e-300), yn / max(ynn, 1e-300), mn)
        lbd = np.sqrt(S[j] * sigma)
        W[:, j], H[j] = lbd * u, lbd * v
    avg = T.sum() / (T.shape[0] * T.shape[1])
    W[W < 1e-12] = avg
    H[H < 1e-12] = avg
    scale = H.sum(axis=1)
    return W * scale, np.ascontiguousarray((H / scale[:, None]).T)


def _nonzero_products(W: np.ndarray, HT: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                      chunk: int = 32768) -> np.ndarray:
    """(W @ HT.T) at the non-zero cells only, in cache-sized chunks."""
    out = np.empty(len(rows))
    for s in range(0, len(rows), chunk):
        e = s + chunk
        out[s:e] = np.einsum("ij,ij->i", W[rows[s:e]], HT[cols[s:e]])
    return out


def _em(T: sp.csr_matrix, W: np.ndarray, HT: np.ndarray, max_iter: int, prior: np.ndarray | None = None,
        tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """KL-NMF of ``T`` by simultaneous multiplicative (PLSA-EM) updates; ``HT`` columns stay
    normalised. ``prior`` (V x k, columns summing to 1 or 0) adds ``SEED_PRIOR_SHARE`` of each
    topic's mass as pseudo-counts on its seed words every iteration."""
    rows = np.repeat(np.arange(T.shape[0]), np.diff(T.indptr))
    cols, v = T.indices, T.data
    R = T.copy()
    W, HT = W.copy(), HT.copy()
    previous = np.inf
    it, converged = 0, False
    for it in range(1, max_iter + 1):
        wh = _nonzero_products(W, HT, rows, cols) + 1e-12
        R.data = v / wh
        if it % 5 == 1:
            loss = float(v @ np.log(v / wh) - v.sum() + W.sum())
            if previous - loss < tol * abs(loss):
                converged = True
                break
            previous = loss
        H_next = HT * (R.T @ W)
        W = W * (R @ HT)
        if prior is not None:
            H_next += SEED_PRIOR_SHARE * H_next.sum(axis=0, keepdims=True) * prior
        HT = H_next / np.maximum(H_next.sum(axis=0, keepdims=True), 1e-300)
    return W, HT, it, converged


def _fold_in(T: sp.csr_matrix, HT: np.ndarray, max_iter: int, tol: float = 1e-4) -> np.ndarray:
    """W of units with ``HT`` fixed, by the same multiplicative updates from a neutral start (each
    unit's mass spread evenly over topics). Rows are independent and each stops on its own loss,
    so a unit's shares do not depend on the other units folded in with it; converged rows drop
    out of the computation."""
    mass = np.asarray(T.sum(axis=1)).ravel()
    W = np.repeat(mass[:, None] / HT.shape[1], HT.shape[1], axis=1) + 1e-9
    previous = np.full(T.shape[0], np.inf)
    active = np.arange(T.shape[0])
    Ta = T
    for it in range(1, max_iter + 1):
        rows = np.repeat(np.arange(len(active)), np.diff(Ta.indptr))
        Wa = W[active]
        wh = _nonzero_products(Wa, HT, rows, Ta.indices) + 1e-12
        if it % 5 == 1:
            loss = np.bincount(rows, weights=Ta.data * np.log(Ta.data / wh) - Ta.data, minlength=len(active)) + Wa.sum(axis=1)
            going = ~(previous[active] - loss < tol * np.abs(loss))
            previous[active] = loss
            if not going.all():
                active, Wa, wh = active[going], Wa[going], wh[np.repeat(going, np.diff(Ta.indptr))]
                Ta = Ta[going]
                if not len(active):
                    break
        R = sp.csr_matrix((Ta.data / wh, Ta.indices, Ta.indptr), shape=Ta.shape)
        W[active] = Wa * (R @ HT)
    return W


def _fit_nmf(X: sp.csr_matrix, k: int, random_state: int, max_iter: int,
             seeds: list[tuple[str, np.ndarray]], fit_rows: np.ndarray, groups: np.ndarray | None = None) -> dict:
    idf = _smooth_idf(X, groups)
    T = _tfidf(X, idf)
    Tf = T[fit_rows]
    Wf, HT = _nndsvda(Tf, k, random_state)
    prior = None
    if seeds:
        Wf, HT, prior = _seeded_start(Tf, Wf, HT, seeds)
    HT, n_iter, converged = _em(Tf, Wf, HT, max_iter, prior=prior)[1:]
    W = _fold_in(T, HT, max_iter)  # every unit's shares as transform gives them
    lengths = np.asarray(X.sum(axis=1)).ravel()
    doc_topic = _normalise_rows(W)
    total = max(float(lengths.sum()), 1e-300)
    sizes = doc_topic.T @ lengths / total
    order = _topic_order(sizes, len(seeds))
    W, HT, doc_topic, sizes = W[:, order], HT[:, order], doc_topic[:, order], sizes[order]
    topic_term = HT.T + 1e-12  # the fitted topic vectors (tf-idf space): their top terms are the most coherent
    return {"topic_term": topic_term / topic_term.sum(axis=1, keepdims=True),
            "doc_topic": doc_topic, "concentration": doc_topic * (lengths[:, None] + 1.0),
            "sizes": sizes,
            "term_frequency": np.asarray(X.sum(axis=0)).ravel() / total,
            "backend": {"HT": HT, "idf": idf, "max_iter": max_iter, "n_iter": n_iter},
            "n_iter": n_iter, "converged": converged}


def _seeded_start(T: sp.csr_matrix, W: np.ndarray, HT: np.ndarray,
                  seeds: list[tuple[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replace the first topics' start by each theme's seed profile: H = the mean tf-idf row of
    the units that use a seed word, boosted on the seed words; W = each unit's seed-word mass."""
    W, HT = W.copy(), HT.copy()
    prior = np.zeros_like(HT)
    floor = HT.min()
    Tc = sp.csc_matrix(T)
    for s, (_, cols) in enumerate(seeds):
        seed_mass = np.asarray(Tc[:, cols].sum(axis=1)).ravel()
        users = np.flatnonzero(seed_mass > 0)
        profile = np.asarray(T[users].mean(axis=0)).ravel() if len(users) else np.zeros(T.shape[1])
        profile = profile / max(profile.sum(), 1e-300) + floor
        profile[cols] += 1.0 / len(cols)
        HT[:, s] = profile / profile.sum()
        W[:, s] = seed_mass * W.sum(axis=1).mean() / max(seed_mass.mean(), 1e-300) + W[:, s].min()
        prior[cols, s] = 1.0 / len(cols)
    return W, HT, prior


def _topic_order(sizes: np.ndarray, n_fixed: int) -> np.ndarray:
    """Seeded topics keep their place; free topics follow, largest first (ties by index)."""
    free = np.arange(n_fixed, len(sizes))
    free = free[np.lexsort((free, -np.round(sizes[free], 9)))]
    return np.concatenate([np.arange(n_fixed), free]).astype(np.int64)


def _normalise_rows(a: np.ndarray) -> np.ndarray:
    """Rows sum to 1; all-zero rows (units with no tokens) become uniform."""
    a = np.asarray(a, dtype=np.float64)
    sums = a.sum(axis=1, keepdims=True)
    out = np.divide(a, sums, out=np.full_like(a, 1.0 / a.shape[1]), where=sums > 0)
    return out


# --- LDA (scikit-learn) -------------------------------------------------------------------------

def _fit_lda(X: sp.csr_matrix, k: int, random_state: int, max_iter: int,
             seeds: list[tuple[str, np.ndarray]], fit_rows: np.ndarray) -> dict:
    from sklearn.decomposition import LatentDirichletAllocation

    lda = LatentDirichletAllocation(n_components=k, learning_method="online", learning_offset=10.0,
                                    batch_size=512, max_iter=max_iter, random_state=random_state)
    Xf = X[fit_rows]
    if not seeds:
        lda.fit(Xf)
    else:  # seeded start: boost the seed words' pseudo-counts, then the usual online passes
        rng = np.random.default_rng(random_state)
        lda.partial_fit(Xf[:1])  # sets up the model through the public API; the start is replaced below
        components = rng.gamma(100.0, 0.01, size=(k, Xf.shape[1]))  # scikit-learn's own initialisation
        for s, (_, cols) in enumerate(seeds):
            components[s, cols] += components.sum(axis=1)[s] * SEED_PRIOR_SHARE / len(cols) * 10
        lda.components_ = components
        lda.exp_dirichlet_component_ = np.exp(_dirichlet_expectation(components))
        for _ in range(max_iter):
            for batch in np.array_split(rng.permutation(Xf.shape[0]), max(1, Xf.shape[0] // 512)):
                lda.partial_fit(Xf[np.sort(batch)])
    state = _lda_state(lda, _lda_gamma(lda, X), X)
    n_iter = int(getattr(lda, "n_iter_", max_iter)) if not seeds else max_iter
    return {**state, "n_iter": n_iter, "converged": n_iter < max_iter}


def _dirichlet_expectation(alpha: np.ndarray) -> np.ndarray:
    """E[log x] of each row's Dirichlet(alpha)."""
    from scipy.special import psi

    return psi(alpha) - psi(alpha.sum(axis=1, keepdims=True))


def _lda_gamma(lda, X: sp.csr_matrix) -> np.ndarray:
    """Each unit's variational Dirichlet parameters (gamma), from scikit-learn's public
    ``transform``: gamma sums to the unit's token count + K x the prior (every token's topic
    responsibilities sum to one), so it is the normalised shares times that total."""
    shares = lda.transform(X)
    total = np.asarray(X.sum(axis=1)).ravel() + lda.doc_topic_prior_ * shares.shape[1]
    return shares * total[:, None]


def _stream_totals(state: dict, X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, int]:
    """What :meth:`TopicModel.partial_fit` carries from chunk to chunk: expected tokens per topic,
    tokens per term and the number of units (constant memory, whatever the number of chunks)."""
    alpha = state["backend"]["lda"].doc_topic_prior_
    counts = np.maximum(state["concentration"] - alpha, 0).sum(axis=0)
    return counts, np.asarray(X.sum(axis=0)).ravel().astype(float), X.shape[0]


def _lda_state(lda, gamma: np.ndarray, X: sp.csr_matrix) -> dict:
    beta = lda.components_ / lda.components_.sum(axis=1, keepdims=True)
    alpha = lda.doc_topic_prior_
    counts = np.maximum(gamma - alpha, 0)
    sizes = counts.sum(axis=0) / max(counts.sum(), 1e-300)
    term_frequency = np.asarray(X.sum(axis=0)).ravel() / max(float(X.sum()), 1e-300)
    return {"topic_term": beta, "doc_topic": _normalise_rows(gamma), "concentration": gamma, "sizes": sizes,
            "term_frequency": term_frequency, "backend": {"lda": lda},
            "n_iter": int(getattr(lda, "n_batch_iter_", 1)), "converged": False}


def _passage(text: str, simplified: str, terms: list[str], max_chars: int) -> str:
    """A ``max_chars`` window of ``text`` starting a little before the first of ``terms``."""
    haystack = simplified if len(simplified) == len(text) else text
    hits = [i for i in (haystack.find(t) for t in terms) if i >= 0]
    start = max(0, min(hits) - max_chars // 5) if hits else 0
    start = min(start, max(0, len(text) - max_chars))
    piece = " ".join(text[start:start + max_chars].split())
    return ("…" if start > 0 else "") + piece + ("…" if start + max_chars < len(text) else "")
