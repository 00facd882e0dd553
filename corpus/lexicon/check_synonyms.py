"""Count every synonym form as a token in the reports and the seed (governance lexicon loaded).

Run from the repo root after build_lexicon.py::

    python corpus/lexicon/check_synonyms.py

Writes ``synonyms_evidence.csv`` (canonical, variant, token counts) and exits non-zero if a row breaks the rule of
``analysis/zhili/data/synonyms.tsv``: every form is a token somewhere, and the canonical is the seed's form or else
at least as frequent in the reports as each variant.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from _corpus import fresh_tokenizer, load_docs
from zhili.lexicon import governance_lexicon, read_synonyms

OUT = Path(__file__).resolve().parent / "synonyms_evidence.csv"


def main() -> None:
    tok = fresh_tokenizer()
    for e in governance_lexicon():
        tok.add_word(e.word, e.freq, e.pos)
    synonyms = read_synonyms()
    forms = set(synonyms) | set(synonyms.values())
    in_reports: Counter = Counter()
    in_seed: Counter = Counter()
    for doc in load_docs():
        counter = in_seed if doc.corpus == "seed" else in_reports
        counter.update(t for t in tok.lcut(doc.text) if t in forms)
    problems = []
    with OUT.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["canonical", "variant", "canonical_tokens_reports", "canonical_tokens_seed",
                    "variant_tokens_reports", "variant_tokens_seed"])
        for variant, canonical in sorted(synonyms.items(), key=lambda kv: (kv[1], kv[0])):
            w.writerow([canonical, variant, in_reports[canonical], in_seed[canonical], in_reports[variant], in_seed[variant]])
            if not in_reports[variant] + in_seed[variant]:
                problems.append(f"{variant}: never a token")
            if not in_seed[canonical] and in_reports[variant] > in_reports[canonical]:
                problems.append(f"{variant} is more frequent than its canonical {canonical}")
    print(f"wrote {OUT} ({len(synonyms)} variants)")
    if problems:
        raise SystemExit("\n".join(problems))


if __name__ == "__main__":
    main()
