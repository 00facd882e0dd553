"""Do known eras surface as topics, unguided, at moderate K? zhili against scikit-learn LDA, same run.

    python benchmarks/bench_eras.py [--data ../shared/data] [--k 20 30 40] [--seeds 42 1 2]

The national government work reports (1954-2025, paragraphs) are fitted at each K with zhili's
default model and with scikit-learn's batch LDA on the same DTM. An era is *found* by a model when
one topic has at least one of the era's marker terms among its 20 most probable terms **and** that
topic's mean share in the era's reports is at least twice its mean share in the other reports.
A report's share of a topic is the token-weighted mean over its paragraphs (the topic's share of
the report's tokens), so every report counts once, however many paragraphs it has. Printed per
era: found or not, the topic's top terms and the era/other share ratio, for both models; and, as a
diagnostic only, the count found when the 20 top terms are ranked by FREX instead of probability.

Eras (report years: a report is delivered in year Y and reviews Y-1):
SARS 2003 (2004), the world financial crisis (2009-2010), the poverty campaign (2016-2021) and the
epidemic (2021-2023; the data hold no 2020 report). Markers the segmenter does not produce as one
token, or that ``min_df`` trims, are listed as missing (e.g. 国际金融危机 is 国际 + 金融危机).
The eras are small: SARS is one report of 52, and each marker occurs in 10-50 of ~6,700 paragraphs.
So the ceiling of the criterion is printed first: the best marker's rank in a topic that *is* the
era's reports (their summed counts, or tf-idf as zhili's NMF weighs terms), and in a topic that is
only the era's paragraphs using a marker (the event itself), with how many paragraphs that is. A
rank above 20 for the era's reports means only an event-sized topic can meet the criterion.
With several ``--seeds`` every fit is repeated per seed (one seed's count is noisy).
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
from sklearn.decomposition import LatentDirichletAllocation

import zhili
from zhili.topics import TopicModel, frex

ERAS = {
    "SARS 2003": ({"非典", "非典型肺炎", "疫情"}, {2004}),
    "financial crisis 2008": ({"金融危机", "国际金融危机", "危机"}, {2009, 2010}),
    "poverty campaign": ({"脱贫攻坚", "脱贫", "贫困人口", "精准扶贫"}, set(range(2016, 2022))),
    "epidemic 2020-22": ({"疫情", "疫情防控", "新冠"}, {2021, 2022, 2023}),
}
TOP = 20


def national_paragraphs(data: Path, folder: Path) -> zhili.DTM:
    """The national reports read as ``zhili run`` reads them (licence footers and residue removed)."""
    with gzip.open(data / "gov_work_reports" / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [line for line in f if json.loads(line).get("level") == "national"]
    (folder / "national.jsonl").write_text("".join(rows), encoding="utf-8")
    c = zhili.corpus(folder / "national.jsonl").reshape("paragraph")
    return zhili.dtm_trim(zhili.dtm(zhili.tokens(c, cache=False)), min_df=5, max_df=0.95, max_features=20000)


def ceiling(d: zhili.DTM) -> list[dict]:
    """The best marker's rank if a topic were exactly the era's reports, or its marker paragraphs."""
    from zhili.topics import _smooth_idf, _tfidf

    X = d.matrix.tocsr().astype(float)
    weighted = {"counts": X, "tf-idf": _tfidf(X, _smooth_idf(X))}
    vocab = np.asarray(d.vocabulary)
    years = d.docvars["year"].astype(float).to_numpy()
    rows = []
    for era, (markers, era_years) in ERAS.items():
        cols = np.flatnonzero(np.isin(vocab, list(markers)))
        in_era = np.isin(years, list(era_years))
        event = in_era & (np.asarray(X[:, cols].sum(axis=1)).ravel() > 0)
        row = {"era": era, "era paragraphs": int(in_era.sum()), "marker paragraphs in era": int(event.sum())}
        for units, mask in (("reports", in_era), ("marker paragraphs", event)):
            for name, M in weighted.items():
                profile = np.asarray(M[mask].sum(axis=0)).ravel()
                rank = np.empty(len(profile), dtype=np.int64)
                rank[np.argsort(-profile, kind="stable")] = np.arange(1, len(profile) + 1)
                row[f"rank in era {units} ({name})"] = int(rank[cols].min())
        rows.append(row)
    return rows


def report_shares(doc_topic: np.ndarray, d: zhili.DTM) -> tuple[np.ndarray, np.ndarray]:
    """Each report's topic shares (token-weighted over its paragraphs) and its year."""
    reports, unit_report = np.unique(d.docvars["doc_id"].astype(str).to_numpy(), return_inverse=True)
    lengths = np.asarray(d.matrix.sum(axis=1)).ravel()
    weight = np.zeros((len(reports), len(lengths)))
    weight[unit_report, np.arange(len(lengths))] = lengths
    shares = weight @ doc_topic / np.maximum(weight.sum(axis=1, keepdims=True), 1e-300)
    years = np.zeros(len(reports))
    years[unit_report] = d.docvars["year"].astype(float).to_numpy()
    return shares, years


def eras_found(name: str, topic_term: np.ndarray, doc_topic: np.ndarray, d: zhili.DTM) -> list[dict]:
    vocab = np.asarray(d.vocabulary)
    shares, years = report_shares(doc_topic, d)
    tops = {"prob": np.argsort(-topic_term, axis=1)[:, :TOP], "frex": np.argsort(-frex(topic_term), axis=1)[:, :TOP]}
    rows = []
    for era, (markers, era_years) in ERAS.items():
        in_era = np.isin(years, list(era_years))
        ratio = shares[in_era].mean(axis=0) / np.maximum(shares[~in_era].mean(axis=0), 1e-12)
        row = {"model": name, "era": era}
        for by, top in tops.items():
            candidates = [k for k in range(topic_term.shape[0]) if markers.intersection(map(str, vocab[top[k]]))]
            best = max(candidates, key=lambda k: ratio[k], default=None)
            found = best is not None and ratio[best] >= 2
            if by == "prob":
                row.update({"found": found, "era/other share": None if best is None else round(float(ratio[best]), 1),
                            "topic terms": "" if best is None else " ".join(map(str, vocab[top[best]][:8]))})
            else:
                row["found by FREX"] = found
        rows.append(row)
    return rows


def main() -> None:
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    p.add_argument("--k", type=int, nargs="+", default=[20, 30, 40])
    p.add_argument("--seeds", type=int, nargs="+", default=[42])
    a = p.parse_args()
    pd.set_option("display.width", 200)
    with tempfile.TemporaryDirectory() as tmp:
        d = national_paragraphs(a.data, Path(tmp))
    vocab = set(map(str, d.vocabulary))
    missing = sorted({m for markers, _ in ERAS.values() for m in markers} - vocab)
    print(f"national reports, paragraphs: {d.shape[0]} units x {d.shape[1]} terms; "
          f"markers not in the vocabulary: {', '.join(missing) or 'none'}")
    print("\nceiling: the best marker's rank in a topic that is exactly ...")
    print(pd.DataFrame(ceiling(d)).to_string(index=False))
    summary = []
    for k in a.k:
        for seed in a.seeds:
            model = TopicModel(n_topics=k, random_state=seed).fit(d)
            lda = LatentDirichletAllocation(k, learning_method="batch", max_iter=20, random_state=seed)
            theta = lda.fit_transform(d.matrix)
            rows = (eras_found(f"zhili default ({model.method_})", model.topic_term_, model.doc_topic_, d)
                    + eras_found("sklearn LDA batch", lda.components_ / lda.components_.sum(axis=1, keepdims=True),
                                 theta, d))
            table = pd.DataFrame(rows)
            print(f"\nK={k}, random_state={seed}\n" + table.to_string(index=False))
            for m, g in table.groupby("model", sort=False):
                found = ", ".join(g.loc[g["found"], "era"]) or "-"
                summary.append(f"K={k} seed={seed} {m}: {g['found'].sum()}/{len(g)} ({found}); "
                               f"by FREX {g['found by FREX'].sum()}/{len(g)}")
    print("\neras found:\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
