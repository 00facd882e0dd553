"""Shared loader for the lexicon build scripts: the real texts, converted to Simplified.

The texts are read from the shared data folder (never copied into the repo):

>>> docs = load_docs()                      # doctest: +SKIP
>>> sorted({d.corpus for d in docs})        # doctest: +SKIP
['cpc', 'gov', 'seed']
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
import opencc

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("ZHILI_SHARED_DATA", REPO.parent / "shared" / "data"))
SEED_DIR = REPO / "seeds"

jieba.setLogLevel(logging.WARNING)


@dataclass(frozen=True)
class Doc:
    doc_id: str
    corpus: str  # 'gov' | 'cpc' | 'seed' | 'web'
    text: str  # Simplified Chinese (opencc t2s)
    meta: dict


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_docs() -> list[Doc]:
    """Government work reports, CPC congress reports and the seed essay, all in Simplified script."""
    convert = _t2s().convert
    docs: list[Doc] = []
    for corpus, folder in (("gov", "gov_work_reports"), ("cpc", "cpc_congress_reports")):
        path = SHARED_DATA / folder / "docs.jsonl.gz"
        if not path.exists():
            raise SystemExit(f"{path} not found: set ZHILI_SHARED_DATA to the shared data folder")
        for rec in _read_jsonl_gz(path):
            text = rec.pop("text")
            docs.append(Doc(rec["id"], corpus, convert(text), rec))
    web = SHARED_DATA / "web_articles" / "docs.jsonl.gz"
    if web.exists():  # scraped pages: cleaned as zhili ingests them (pinyin glosses, page residue, meta lines)
        from zhili.webtext import clean_texts, site_of

        recs = _read_jsonl_gz(web)
        cleaned = clean_texts([r["text"] for r in recs], [site_of("web", r.get("url")) for r in recs])
        docs += [Doc(r["id"], "web", convert(c.text), {}) for r, c in zip(recs, cleaned)]
    for seed in sorted(SEED_DIR.glob("*.txt")):
        docs.append(Doc(seed.stem, "seed", convert(seed.read_text(encoding="utf-8")), {}))
    return docs


def fresh_tokenizer() -> jieba.Tokenizer:
    """A plain jieba tokenizer with only jieba's own dictionary."""
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok
