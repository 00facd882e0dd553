"""Evidence for ``analysis/zhili/data/genre_boilerplate.txt``: how many government work reports use each
procedure word and formula (a formula that no report uses, or a word that is not procedure, should go).

    python corpus/lexicon/check_genre_boilerplate.py     # writes genre_boilerplate_evidence.csv
"""

from __future__ import annotations

import csv
from pathlib import Path

from _corpus import load_docs

from zhili.lexicon import genre_boilerplate

HERE = Path(__file__).resolve().parent


def main() -> None:
    reports = [d for d in load_docs() if d.corpus in ("gov", "cpc")]
    gb = genre_boilerplate()
    rows = []
    for word in sorted(gb.words):
        n = sum(1 for d in reports if word in d.text)
        rows.append(["word", word, n, round(n / len(reports), 3), sum(d.text.count(word) for d in reports)])
    for rx in gb.patterns:
        n = sum(1 for d in reports if rx.search(d.text))
        rows.append(["formula", rx.pattern, n, round(n / len(reports), 3), sum(len(rx.findall(d.text)) for d in reports)])
    with (HERE / "genre_boilerplate_evidence.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["kind", "entry", "n_reports", "share_of_214_reports", "n_occurrences"])
        w.writerows(rows)
    for row in rows:
        print(*row, sep="\t")


if __name__ == "__main__":
    main()
