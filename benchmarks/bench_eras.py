"""Do known eras surface as topics, unguided, at moderate K? zhili against scikit-learn LDA, same run.

    python benchmarks/bench_eras.py [--data ../shared/data] [--seeds 42 1 2]
                                    [--k-document 10 15 20] [--k-paragraph 20 30 40]

The national government work reports (52 reports, 1954-2025) are fitted at each K on two units:
whole reports (``zhili run``'s default unit; K 10-20 is moderate for 52 reports) and paragraphs
(~6,700; K 20-40). Models: zhili's default, scikit-learn's batch LDA on the same DTM, and on
paragraphs also zhili with ``idf_by='doc_id'`` (a term's idf counts the reports that use it, not
the paragraphs). The DTM is trimmed as ``zhili run`` trims it (min_df 5, or 2 below 200 units).

An era is *found* by a model when one topic has at least one of the era's marker terms among its
20 most probable terms **and** that topic's mean share in the era's reports is at least twice its
mean share in the other reports. A report's share of a topic is the token-weighted mean over its
units (the topic's share of the report's tokens), so every report counts once, however many
paragraphs it has. Printed per era: found or not, the topic's top terms and the era/other share
ratio; and, as a diagnostic only, the count found when the 20 top terms are ranked by FREX.

Eras (report years: a report is delivered in year Y and reviews Y-1):
SARS 2003 (2004), the world financial crisis (2009-2010), the poverty campaign (2016-2021) and the
epidemic (2021-2023; the data hold no 2020 report). Markers the segmenter does not produce as one
token, or that ``min_df`` trims, are listed as missing (e.g. 国际金融危机 is 国际 + 金融危机).
The eras are small: SARS is one report of 52, and each marker occurs in 8-38 of ~6,700 paragraphs.
So the ceiling of the criterion is printed first: the best marker's rank in a topic that *is* the
era's reports (their summed counts, or tf-idf as zhili's NMF weighs terms), and in a topic that is
only the era's units using a marker (the event itself), with how many units that is. On
paragraphs a topic that is an era's reports ranks its markers far below 20: only event-sized
topics meet the criterion there.
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


def national_dtm(data: Path, folder: Path, unit: str) -> zhili.DTM:
    """The national reports read as ``zhili run`` reads them (licence footers and residue removed),
    as reports or paragraphs, trimmed as the run trims them."""
    with gzip.open(data / "gov_work_reports" / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [line for line in f if json.loads(line).get("level") == "national"]
    (folder / "national.jsonl").write_text("".join(rows), encoding="utf-8")
    c = zhili.corpus(folder / "national.jsonl", spill=False)
    if unit != "document":
        c = c.reshape(unit)
    d = zhili.dtm(zhili.tokens(c, cache=False))
    return zhili.dtm_trim(d, min_df=5 if d.shape[0] >= 200 else 2, max_df=0.95, max_features=20000)


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
        row = {"era": era, "era units": int(in_era.sum()), "marker units in era": int(event.sum())}
        for units, mask in (("reports", in_era), ("marker units", event)):
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
    p.add_argument("--k-document", type=int, nargs="*", default=[10, 15, 20])
    p.add_argument("--k-paragraph", type=int, nargs="*", default=[20, 30, 40])
    p.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    a = p.parse_args()
    pd.set_option("display.width", 200)
    summary = []
    for unit, ks in (("document", a.k_document), ("paragraph", a.k_paragraph)):
        if not ks:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            d = national_dtm(a.data, Path(tmp), unit)
        vocab = set(map(str, d.vocabulary))
        missing = sorted({m for markers, _ in ERAS.values() for m in markers} - vocab)
        print(f"\n=== national reports, unit {unit}: {d.shape[0]} units x {d.shape[1]} terms; "
              f"markers not in the vocabulary: {', '.join(missing) or 'none'}")
        print("\nceiling: the best marker's rank in a topic that is exactly ...")
        print(pd.DataFrame(ceiling(d)).to_string(index=False))
        zhili_models = {"zhili default": {}}
        if unit != "document":
            zhili_models["zhili idf_by=doc_id"] = {"idf_by": "doc_id"}
        for k in ks:
            for seed in a.seeds:
                rows = []
                for name, extra in zhili_models.items():
                    model = TopicModel(n_topics=k, random_state=seed, **extra).fit(d)
                    rows += eras_found(f"{name} ({model.method_})", model.topic_term_, model.doc_topic_, d)
                lda = LatentDirichletAllocation(k, learning_method="batch", max_iter=20, random_state=seed)
                theta = lda.fit_transform(d.matrix)
                rows += eras_found("sklearn LDA batch", lda.components_ / lda.components_.sum(axis=1, keepdims=True),
                                   theta, d)
                table = pd.DataFrame(rows)
                print(f"\n{unit}, K={k}, random_state={seed}\n" + table.to_string(index=False))
                for m, g in table.groupby("model", sort=False):
                    found = ", ".join(g.loc[g["found"], "era"]) or "-"
                    summary.append(f"{unit} K={k} seed={seed} {m}: {g['found'].sum()}/{len(g)} ({found}); "
                                   f"by FREX {g['found by FREX'].sum()}/{len(g)}")
    print("\neras found:\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
