"""Benchmark zhili's topic models against scikit-learn baselines measured in the same run.

    python benchmarks/bench_topics.py [--data ../shared/data] [--skip-search]

1. Topic recovery: NMI between each document's argmax topic and its label
   (THUCNews 10 categories, K=10; administrative-litigation causes, K=6), for zhili's
   default and for scikit-learn LDA (batch) and NMF (Frobenius on tf-idf) on the same DTM.
2. Speed on government-report paragraphs (K=20): zhili's default vs scikit-learn's batch
   LDA (max_iter=20), with mean NPMI coherence of both.
3. ``search_k`` over K = 5, 10, ..., 40 on the same corpus with n_jobs=2.
4. Reproducibility: two fits give byte-identical topics tables.
5. K chosen from the data on labelled corpora: ``search_k`` (K = 5..40, widened when the best
   K is on an edge, refined coarse-to-fine) on THUCNews (10 labels) and the court texts (6),
   with the recommended K, the range searched and the NMI at that K.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import NMF, LatentDirichletAllocation
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics import normalized_mutual_info_score

import zhili
from zhili.topics import TopicModel, coherence_npmi, search_k

TRIM = {"min_df": 5, "max_df": 0.95, "max_features": 20000}  # recommended `zhili run` defaults for topics


def load(data: Path, name: str) -> list[dict]:
    with gzip.open(data / name / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def build_dtm(texts: list[str], unit: str = "document") -> zhili.DTM:
    c = zhili.corpus_from_texts(texts)
    if unit != "document":
        c = c.reshape(unit)
    return zhili.dtm_trim(zhili.dtm(zhili.tokens(c, cache=False)), **TRIM)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def recovery(data: Path) -> list[dict]:
    rows = []
    for name, field, k in [("thucnews_cnews1k", "label", 10), ("admin_litigation_cause", "label_short", 6)]:
        docs = load(data, name)
        d = build_dtm([r["text"] for r in docs])
        labels = [r[field] for r in docs]
        X = d.matrix
        runs = {
            "zhili default (auto)": lambda: TopicModel(n_topics=k).fit(d).doc_topic_,
            "zhili lda": lambda: TopicModel(n_topics=k, method="lda").fit(d).doc_topic_,
            "sklearn LDA batch": lambda: LatentDirichletAllocation(k, learning_method="batch", max_iter=20,
                                                                  random_state=42).fit_transform(X),
            "sklearn NMF tf-idf": lambda: NMF(k, init="nndsvda", random_state=42, max_iter=400)
            .fit_transform(TfidfTransformer().fit_transform(X)),
        }
        for label, run in runs.items():
            theta, seconds = timed(run)
            rows.append({"data": name, "K": k, "model": label, "units x terms": f"{d.shape[0]} x {d.shape[1]}",
                         "NMI": normalized_mutual_info_score(labels, theta.argmax(axis=1)), "seconds": seconds})
    return rows


def speed(data: Path, skip_search: bool) -> tuple[list[dict], str]:
    docs = load(data, "gov_work_reports")
    d = build_dtm([r["text"] for r in docs], unit="paragraph")
    binary = (d.matrix > 0).astype(float).tocsc()
    n_tokens = int(d.matrix.sum())
    rows = []
    model, t_zhili = timed(lambda: TopicModel(n_topics=20).fit(d))
    rows.append({"model": f"zhili default ({model.method_})", "seconds": t_zhili,
                 "NPMI": coherence_npmi(model.topic_term_, binary).mean()})
    lda, t_lda = timed(lambda: LatentDirichletAllocation(20, max_iter=20, learning_method="batch",
                                                         random_state=42).fit(d.matrix))
    rows.append({"model": "sklearn LDA batch max_iter=20", "seconds": t_lda,
                 "NPMI": coherence_npmi(lda.components_, binary).mean()})
    for r in rows:
        r["time / sklearn LDA"] = r["seconds"] / t_lda
    note = f"gov_work_reports paragraphs: {d.shape[0]} units x {d.shape[1]} terms, {n_tokens} tokens, K=20"
    if not skip_search:
        result, t_search = timed(lambda: search_k(d, ks=range(5, 41, 5), n_seeds=3, n_jobs=2))
        rows.append({"model": "search_k K=5..40, 3 seeds, n_jobs=2", "seconds": t_search, "NPMI": np.nan,
                     "time / sklearn LDA": np.nan})
        note += "\n\nsearch_k table:\n" + result.table.to_string(index=False) + "\n" + result.reason
    return rows, note


def reproducible(data: Path) -> bool:
    docs = load(data, "thucnews_cnews1k")
    d = build_dtm([r["text"] for r in docs])
    return TopicModel(n_topics=10).fit(d).topics_table().to_csv() == TopicModel(n_topics=10).fit(d).topics_table().to_csv()


def k_on_labelled(data: Path) -> list[dict]:
    rows = []
    for name, field, true_k in [("thucnews_cnews1k", "label", 10), ("admin_litigation_cause", "label_short", 6)]:
        docs = load(data, name)
        d = build_dtm([r["text"] for r in docs])
        labels = [r[field] for r in docs]
        result, seconds = timed(lambda: search_k(d, ks=range(5, 41, 5), n_seeds=3, n_jobs=2))
        k = result.recommended_k
        nmi = normalized_mutual_info_score(labels, TopicModel(n_topics=k).fit(d).doc_topic_.argmax(axis=1))
        rows.append({"data": name, "labels": true_k, "recommended K": k, "NMI at K": nmi,
                     "Ks searched": " ".join(map(str, result.table["k"])), "seconds (2 cores)": seconds})
    return rows


def main() -> None:
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--skip-search", action="store_true", help="skip the ~2-minute search_k timing")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    pd.set_option("display.width", 160)
    print(f"dtm_trim settings: {TRIM}\n")
    print("1. Topic recovery (NMI of argmax topic vs label; targets: THUCNews >= 0.85, admin >= 0.25)")
    print(pd.DataFrame(recovery(args.data)).round(3).to_string(index=False), "\n")
    rows, note = speed(args.data, args.skip_search)
    print("2./3. Speed (target: default <= 1/3 of sklearn batch LDA, NPMI not worse; search_k <= 180 s)")
    print(note.split("\n")[0])
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print("\n".join(note.split("\n")[1:]), "\n")
    print(f"4. Same seed twice -> identical topics table: {reproducible(args.data)}\n")
    if not args.skip_search:
        print("5. K from the data on labelled corpora")
        print(pd.DataFrame(k_on_labelled(args.data)).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
