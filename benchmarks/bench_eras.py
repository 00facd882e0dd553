"""Do known eras surface as topics, unguided, at moderate K? zhili against scikit-learn LDA, same run.

    python benchmarks/bench_eras.py [--data ../shared/data] [--k 20]

The national government work reports (1954-2025, paragraphs) are fitted at K topics with zhili's
default model and with scikit-learn's batch LDA on the same DTM. An era is *found* by a model when
one topic has at least one of the era's marker terms among its 20 most probable terms **and** that
topic's mean share in the era's report years is at least twice its mean share in the other years.
Printed per era: found or not, the topic's top terms and the era/other share ratio, for both models.

Eras (report years: a report is delivered in year Y and reviews Y-1):
SARS 2003 (2004), the world financial crisis (2009-2010), the poverty campaign (2016-2021) and the
epidemic (2021-2023).
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
from zhili.topics import TopicModel

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


def eras_found(name: str, topic_term: np.ndarray, doc_topic: np.ndarray, vocab: np.ndarray,
               years: np.ndarray) -> list[dict]:
    top = np.argsort(-topic_term, axis=1)[:, :TOP]
    rows = []
    for era, (markers, era_years) in ERAS.items():
        in_era = np.isin(years, list(era_years))
        best = None
        for k in range(topic_term.shape[0]):
            terms = [str(vocab[i]) for i in top[k]]
            if not markers.intersection(terms):
                continue
            ratio = doc_topic[in_era, k].mean() / max(doc_topic[~in_era, k].mean(), 1e-12)
            if best is None or ratio > best[0]:
                best = (ratio, k, terms)
        found = best is not None and best[0] >= 2
        rows.append({"model": name, "era": era, "found": found,
                     "era/other share": None if best is None else round(float(best[0]), 1),
                     "topic terms": "" if best is None else " ".join(best[2][:8])})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    p.add_argument("--k", type=int, default=20)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = national_paragraphs(a.data, Path(tmp))
    years = d.docvars["year"].astype(float).to_numpy()
    vocab = np.asarray(d.vocabulary)
    print(f"national reports, paragraphs: {d.shape[0]} units x {d.shape[1]} terms, K={a.k}\n")
    model = TopicModel(n_topics=a.k, random_state=42).fit(d)
    lda = LatentDirichletAllocation(a.k, learning_method="batch", max_iter=20, random_state=42)
    theta = lda.fit_transform(d.matrix)
    rows = (eras_found(f"zhili default ({model.method_})", model.topic_term_, model.doc_topic_, vocab, years)
            + eras_found("sklearn LDA batch", lda.components_ / lda.components_.sum(axis=1, keepdims=True), theta,
                         vocab, years))
    import pandas as pd

    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print("\neras found:", ", ".join(f"{m} {g['found'].sum()}/{len(g)}" for m, g in table.groupby("model", sort=False)))


if __name__ == "__main__":
    main()
