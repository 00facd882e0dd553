"""Covariate effects: post-hoc effects on NMF (zhili's default) against a covariate-aware model
(tomotopy g-DMR, ``TopicModel(method="dmr", covariates=...)``), same run, same effects estimator.

    python benchmarks/bench_effects_models.py [--data ../shared/data] [--reps 20] [--k 20] [--quick]

Both arms estimate effects with :func:`zhili.topic_effects` (fractional logit per topic, method of
composition over the units' Dirichlet posteriors, document-clustered covariance); they differ in
the topic model: NMF fitted without the covariates, or DMR fitted with them in every unit's prior
(its shares are the unit's topic counts + one shared prior, see :mod:`zhili.dmr`).

(a) planted trend: a synthetic corpus (120 documents x 2 paragraphs of 50 tokens, 2010-2019, 6
    provinces, K = 5 topics with distinct vocabularies) in which topic 0's expected share rises by
    0.02 a year. Fitted topics are matched to the true ones (Hungarian on topic-term cosine);
    reported: the estimate for true topic 0 of ``year + province`` against 0.02, its sign, whether
    the 95 % interval covers 0.02, and the recovered topic-term cosine; over ``--seeds`` corpora.
(b) calibration: no effect planted; a coin flipped per document is the covariate (``coin``,
    inside the model for DMR: one refit per draw); share of topic x draw p-values below 0.05
    over ``--reps`` draws (should be about 0.05).
(c) real paragraphs: the national government work reports 1954-2025 as paragraphs, K topics,
    formula ``s(year)``: fit time, effects time, held-out fit (document-completion perplexity on
    20 % of the paragraphs: shares folded in on half of each held-out paragraph's tokens predict
    the other half; lower is better), NPMI coherence of the top 10 terms (on all paragraphs) and
    the share of topics with a significant year trend.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

import zhili
from zhili.dtm import DTM
from zhili.effects import topic_effects
from zhili.topics import TopicModel, coherence_npmi, match_topics

K_SYNTH, V_SYNTH, TREND = 5, 500, 0.02


def synthetic(trend: float, seed: int, n_docs: int = 120, paragraphs: int = 2, length: int = 50) -> tuple[DTM, np.ndarray]:
    """A word-level version of tests/test_effects.py's corpus; returns the DTM and the true topics."""
    rng = np.random.default_rng(seed)
    k, v = K_SYNTH, V_SYNTH
    beta = np.full((k, v), 0.02)
    for t in range(k):
        beta[t, t * (v // k):(t + 1) * (v // k)] += rng.gamma(1.0, 1.0, v // k)
    beta /= beta.sum(axis=1, keepdims=True)
    rows, counts = [], []
    for i in range(n_docs):
        year, province = 2010 + i % 10, "ABCDEF"[(i // 10) % 6]
        base = np.full(k, 1.0 / k)
        base[0] = np.clip(0.2 + trend * (year - 2014.5), 0.02, 0.9)
        base[1:] = (1 - base[0]) / (k - 1)
        doc = rng.dirichlet(base * 30)
        for p in range(paragraphs):
            unit = rng.dirichlet(doc * 40 + 0.01)
            z = rng.multinomial(length, unit)
            counts.append(sum(rng.multinomial(z[t], beta[t]) for t in range(k)))
            rows.append({"doc_id": f"d{i}", "position": p + 1, "year": year, "province": province})
    vocab = np.array([f"w{j}" for j in range(v)], dtype=object)
    return DTM(sp.csr_matrix(np.array(counts, dtype=np.float64)), vocab, pd.DataFrame(rows), "count", {}), beta


def fit(method: str, d: DTM, k: int, covariates: str | None, seed: int = 42) -> tuple[TopicModel, float]:
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = TopicModel(k, method=method, covariates=covariates if method == "dmr" else None, random_state=seed,
                       n_jobs=1).fit(d)
    return m, time.perf_counter() - t


def planted(seeds: list[int], n_draws: int) -> pd.DataFrame:
    out = []
    for seed in seeds:
        d, beta = synthetic(TREND, seed)
        for method in ("nmf", "dmr"):
            m, seconds = fit(method, d, K_SYNTH, "year + province")
            order, sim = match_topics(beta, m.topic_term_)
            fx = topic_effects(m, "year + province", n_draws=n_draws).table
            row = fx.query("covariate == 'year'").set_index("topic").loc[int(order[0])]
            out.append({"method": method, "seed": seed, "estimate": row["estimate"], "ci_low": row["ci_low"],
                        "ci_high": row["ci_high"], "p": row["p"], "cosine": float(sim.mean()), "fit_s": seconds})
    return pd.DataFrame(out)


def coin_flips(reps: int, n_draws: int) -> pd.DataFrame:
    d, _ = synthetic(0.0, seed=101)
    docs = d.docvars["doc_id"].unique()
    rng = np.random.default_rng(7)
    nmf, _ = fit("nmf", d, K_SYNTH, None)
    out = []
    for rep in range(reps):
        coin = dict(zip(docs, rng.choice(["正", "反"], size=len(docs))))
        dc = replace(d, docvars=d.docvars.assign(coin=d.docvars["doc_id"].map(coin)))
        dmr, _ = fit("dmr", dc, K_SYNTH, "coin", seed=rep)
        for method, m in (("nmf", nmf), ("dmr", dmr)):
            p = topic_effects(m, "coin", data=dc.docvars, n_draws=n_draws, random_state=rep).table["p"]
            out += [{"method": method, "rep": rep, "p": float(x)} for x in p]
    return pd.DataFrame(out)


def national_paragraphs(data: Path, folder: Path) -> DTM:
    """The national reports read as ``zhili run`` reads them (as in bench_eras.py)."""
    with gzip.open(data / "gov_work_reports" / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [line for line in f if json.loads(line).get("level") == "national"]
    (folder / "national.jsonl").write_text("".join(rows), encoding="utf-8")
    c = zhili.corpus(folder / "national.jsonl").reshape("paragraph")
    return zhili.dtm_trim(zhili.dtm(zhili.tokens(c, cache=False)), min_df=5, max_df=0.95, max_features=20000)


def completion_perplexity(m: TopicModel, held: DTM, rng: np.random.Generator) -> float:
    X = sp.csr_matrix(held.matrix, dtype=np.float64)
    first = X.copy()
    first.data = rng.binomial(X.data.astype(np.int64), 0.5).astype(np.float64)
    second = (X - first).tocsr()
    second.eliminate_zeros()
    first.eliminate_zeros()  # explicit zeros would give log(0) in the sublinear tf-idf
    theta = m.transform(replace(held, matrix=first))
    rows = np.repeat(np.arange(second.shape[0]), np.diff(second.indptr))
    probs = np.einsum("ij,ji->i", theta[rows], m.topic_term_[:, second.indices])
    return float(np.exp(-(second.data @ np.log(np.maximum(probs, 1e-300))) / second.data.sum()))


def real(data: Path, k: int, n_draws: int) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        d = national_paragraphs(data, Path(tmp))
        print(f"national paragraphs: {d.shape[0]} units x {d.shape[1]} terms, {int(d.matrix.sum())} tokens "
              f"({time.perf_counter() - t:.0f} s to read)", flush=True)
    rng = np.random.default_rng(0)
    held = np.zeros(d.shape[0], dtype=bool)
    held[rng.choice(d.shape[0], d.shape[0] // 5, replace=False)] = True
    train = replace(d, matrix=d.matrix[~held], docvars=d.docvars[~held].reset_index(drop=True))
    test = replace(d, matrix=d.matrix[held], docvars=d.docvars[held].reset_index(drop=True))
    binary = sp.csr_matrix(d.matrix)
    out = []
    for method in ("nmf", "dmr"):
        m, seconds = fit(method, train, k, "s(year)")
        perplexity = completion_perplexity(m, test, np.random.default_rng(1))
        m_all, seconds_all = fit(method, d, k, "s(year)")
        t = time.perf_counter()
        fx = topic_effects(m_all, "s(year)", n_draws=n_draws)
        fx_s = time.perf_counter() - t
        tab = fx.table
        out.append({"method": method, "fit_s": seconds_all, "effects_s": fx_s, "heldout_perplexity": perplexity,
                    "npmi": float(coherence_npmi(m_all.topic_term_, binary).mean()),
                    "sig_year_share": float((tab["p"] < 0.05).mean()),
                    "median_ci_width": float((tab["ci_high"] - tab["ci_low"]).median()),
                    "n_iter": m_all.n_iter_, "converged": m_all.converged_})
        print(f"  {method}: fit {seconds_all:.1f} s, effects {fx_s:.1f} s", flush=True)
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="fewer draws and repetitions (a smoke run)")
    ap.add_argument("--skip-real", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.seeds, args.draws = 4, 1, 30
    t0 = time.perf_counter()
    a = planted(list(range(args.seeds)), args.draws)
    print(f"\n(a) planted trend: topic 0's expected share +{TREND} a year ({args.seeds} corpora)")
    print(a.round(4).to_string(index=False))
    summary_a = a.groupby("method").agg(estimate=("estimate", "mean"), abs_error=("estimate",
                                        lambda e: float(np.abs(e - TREND).mean())),
                                        right_sign=("estimate", lambda e: float((e > 0).mean())),
                                        covers_truth=("ci_low", "size"), cosine=("cosine", "mean"),
                                        fit_s=("fit_s", "mean"))
    summary_a["covers_truth"] = a.assign(c=(a.ci_low <= TREND) & (TREND <= a.ci_high)).groupby("method")["c"].mean()
    print(summary_a.round(4).to_string())
    b = coin_flips(args.reps, args.draws)
    print(f"\n(b) coin flip per document, {args.reps} draws x {K_SYNTH} topics: share with p < 0.05 (ideal 0.05)")
    summary_b = b.groupby("method")["p"].agg(sig_share=lambda p: float((p < 0.05).mean()), n="size")
    print(summary_b.round(3).to_string())
    if not args.skip_real:
        print(f"\n(c) national reports as paragraphs, K={args.k}, s(year)")
        c = real(args.data, args.k, args.draws)
        c = c.set_index("method")
        c["converged"] = c["converged"].astype(str)
        c.loc["dmr/nmf"] = np.nan
        for col in ("fit_s", "effects_s", "heldout_perplexity", "npmi", "median_ci_width"):
            c.loc["dmr/nmf", col] = c.loc["dmr", col] / c.loc["nmf", col]
        print(c.to_string(float_format=lambda x: f"{x:.3f}"))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
