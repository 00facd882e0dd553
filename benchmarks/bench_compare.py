"""Comparison figures: the time to compare topic prevalence once a model is fitted, and a
face-validity check of keyness on the national government work reports.

    python benchmarks/bench_compare.py [--data ../shared/data] [--draws 200] [--repeat 3]

1. Target: "comparisons over ~30 groups with 200 uncertainty draws take <= 30 s on 2 cores".
   The units are the government work reports split into paragraphs (~19,000 units), the
   model is faked (K=20, random Dirichlet posteriors around each document's shares; the
   arithmetic does not depend on where the parameters came from) with the real docvars.
   Timed: compare_topics by province (~30 groups) and by city (~115), topic_trends by year,
   before_after, topic_regression (linear, spline, province contrasts) and topic_effects
   (s(year) + level, province fixed effects). The posterior draws are made once per fit
   (the first comparison pays for them; later ones reuse them). ``holds`` counts the rows
   whose interval holds its estimate (must be all).
2. Keyness on the 52 national reports (1954-2025), by year and by decade: is 疫情 among
   the ten strongest key terms of 2022, and are the 1950s marked by planning-era terms?
Timings are the best of --repeat runs (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import time
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from zhili.compare import before_after, compare_topics, topic_regression, topic_trends
from zhili.corpus import corpus, corpus_from_texts
from zhili.effects import topic_effects
from zhili.errors import ZhiliWarning

REPO = Path(__file__).resolve().parents[1]
K = 20
TARGET_SECONDS = 30.0


def best_of(repeat: int, fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def fake_model(docvars: pd.DataFrame, n_chars: np.ndarray, seed: int = 0) -> types.SimpleNamespace:
    """Each document has its own shares; each paragraph's posterior is a Dirichlet around
    them, as concentrated as a fit on (characters / 2) tokens would make it."""
    rng = np.random.default_rng(seed)
    doc_codes, doc_ids = pd.factorize(docvars["doc_id"])
    doc_theta = rng.dirichlet(np.full(K, 0.5), size=len(doc_ids))
    unit_theta = np.array([rng.dirichlet(doc_theta[d] * 30 + 0.01) for d in doc_codes])
    alpha = unit_theta * np.maximum(n_chars / 2, 1)[:, None] + 0.05
    return types.SimpleNamespace(n_topics_=K, doc_topic_=alpha / alpha.sum(axis=1, keepdims=True),
                                 doc_topic_concentration_=alpha, docvars_=docvars.reset_index(drop=True),
                                 labels_=[f"topic {k}" for k in range(K)], topic_names_=None)


def prevalence_timings(data: Path, draws: int, repeat: int) -> None:
    reports = corpus(data / "gov_work_reports" / "docs.jsonl.gz", id_col="id")
    units = reports.reshape("paragraph")
    model = fake_model(units.docvars, units.docs["text"].str.len().to_numpy())
    n_docs = units.docs["doc_id"].nunique()
    print(f"## Topic prevalence after the fit: {len(units):,} paragraphs of {n_docs} reports, K={K}, "
          f"{draws} draws, {os.cpu_count()} cores")
    print(f"{'comparison':52} {'groups':>6} {'seconds':>8} {'holds':>13}")
    runs = [
        ("compare_topics(by='province')", lambda: compare_topics(model, "province", n_draws=draws), "group", "mean"),
        ("compare_topics(by='city')", lambda: compare_topics(model, "city", n_draws=draws), "group", "mean"),
        ("compare_topics(by=['level', 'year'])", lambda: compare_topics(model, ["level", "year"], n_draws=draws),
         "group", "mean"),
        ("topic_trends(by='year')", lambda: topic_trends(model, by="year", n_draws=draws), "group", "mean"),
        ("before_after(cut=2012)", lambda: before_after(model, cut=2012, n_draws=draws), None, "difference"),
        ("topic_regression(year, linear)", lambda: topic_regression(model, n_draws=draws).coefficients, None,
         "estimate"),
        ("topic_regression(year, spline_df=5)",
         lambda: topic_regression(model, spline_df=5, n_draws=draws).coefficients, None, "estimate"),
        ("topic_regression(by='province')",
         lambda: topic_regression(model, year=None, by="province", n_draws=draws).coefficients, None,
         "estimate"),
        ("topic_effects('s(year) + level')", lambda: topic_effects(model, "s(year) + level", n_draws=draws).table,
         None, "estimate"),
        ("topic_effects('province')", lambda: topic_effects(model, "province", n_draws=draws).table, None,
         "estimate"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZhiliWarning)  # national reports have no province: left out, as intended
        for name, fn, groups, point in runs:
            seconds, table = best_of(repeat, fn)
            n_groups = table[groups].nunique() if groups else "-"
            rows = table.dropna(subset=["ci_low", "ci_high"])
            held = int(((rows["ci_low"] <= rows[point]) & (rows[point] <= rows["ci_high"])).sum())
            flag = "" if seconds <= TARGET_SECONDS else f"  (over the {TARGET_SECONDS:.0f} s target)"
            print(f"{name:52} {n_groups:>6} {seconds:8.2f} {f'{held}/{len(rows)}':>13}{flag}")


def national_keyness(data: Path) -> None:
    from zhili.dtm import dtm
    from zhili.keyness import keyness
    from zhili.tokens import tokens

    reports = corpus(data / "gov_work_reports" / "docs.jsonl.gz", id_col="id").docs
    national = reports[reports["level"] == "national"].reset_index(drop=True)
    years = national["year"].astype(int)
    docvars = pd.DataFrame({"year": years, "decade": (years // 10 * 10).map(lambda y: f"{y}s")})
    t = time.perf_counter()
    counts = dtm(tokens(corpus_from_texts(national["text"], national["doc_id"], docvars), cache=False))
    print(f"\n## Keyness on the national reports ({len(national)} reports {years.min()}-{years.max()}, "
          f"{counts.matrix.sum():,} tokens, {counts.shape[1]:,} types; segmented in {time.perf_counter() - t:.1f} s)")
    columns = ["term", "g2", "log_ratio", "p_adj", "count_group", "count_rest", "rate_group", "rate_rest"]

    t = time.perf_counter()
    by_year = keyness(counts, "year")
    seconds = time.perf_counter() - t
    top = by_year[by_year["group"] == 2022].head(10)
    rank = by_year[by_year["group"] == 2022].reset_index(drop=True).query("term == '疫情'").index
    print(f"\n### 2022 against all other years (keyness by='year' over {by_year['group'].nunique()} years: "
          f"{seconds:.2f} s); 疫情 is key term no. {rank[0] + 1 if len(rank) else '-'}")
    print(top[columns].round(2).to_string(index=False))

    by_decade = keyness(counts, "decade", target="1950s")
    print("\n### The 1950s (1954-1960 reports) against all later decades")
    print(by_decade.head(15)[columns].round(2).to_string(index=False))
    planning = ["五年计划", "第一个五年计划", "合作社", "合作化", "社会主义改造", "农业合作社", "工农业", "生产合作社"]
    found = by_decade[by_decade["term"].isin(planning)][["term", "g2", "count_group", "count_rest"]]
    found.insert(1, "rank", found.index + 1)
    print("\nPlanning-era terms among the 1950s key terms (rank among all terms):")
    print(found.round(2).to_string(index=False) if len(found) else "none of them is in the vocabulary")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    prevalence_timings(args.data, args.draws, args.repeat)
    national_keyness(args.data)


if __name__ == "__main__":
    main()
