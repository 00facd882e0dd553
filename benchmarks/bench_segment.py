"""Segmentation figures, each measured against its baseline in the same run.

    python benchmarks/bench_segment.py [--data ../shared/data] [--repeat 3]

1. SIGHAN-2005 word F1 through `zhili segment --keep-all` (cityu Traditional, pku Simplified)
   vs plain `jieba.lcut` on the raw text.
2. Throughput of normalise + segment + filter over the government work reports, as a ratio to
   `jieba.lcut` on the same text in one process, and the gain from 2 processes.
3. A second `zhili run` over the same corpus: its segmentation time as a share of the first's.
Timings are the best of --repeat runs (this machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jieba

import zhili
from zhili.evaluate import segmentation_scores
from zhili.segment import SegmenterConfig, get_segmenter

REPO = Path(__file__).resolve().parents[1]


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def sighan(data: Path) -> None:
    print("## SIGHAN-2005 word F1 (zhili segment --keep-all vs jieba.lcut on the raw text)")
    print(f"{'corpus':8} {'zhili F1':>9} {'jieba F1':>9} {'zhili OOV-R':>12} {'jieba OOV-R':>12}")
    for name in ("cityu", "pku"):
        read = lambda p: gzip.open(data / "sighan2005" / p, "rt", encoding="utf-8-sig").read()  # noqa: E731
        test = read(f"testing/{name}_test.utf8.gz").splitlines()
        gold = [line.split() for line in read(f"gold/{name}_test_gold.utf8.gz").splitlines()]
        known = set(read(f"gold/{name}_training_words.utf8.gz").split())
        out = subprocess.run([sys.executable, "-m", "zhili.cli", "segment", "--keep-all"], input="\n".join(test) + "\n",
                             capture_output=True, text=True, check=True).stdout.splitlines()
        z = segmentation_scores(gold, [line.split() for line in out], known)
        j = segmentation_scores(gold, [[t for t in jieba.lcut(line) if t.strip()] for line in test], known)
        print(f"{name:8} {z['f1']:9.4f} {j['f1']:9.4f} {z['oov_recall']:12.4f} {j['oov_recall']:12.4f}")


def throughput(data: Path, repeat: int) -> None:
    c = zhili.corpus(data / "gov_work_reports" / "docs.jsonl.gz")
    texts = c.texts
    n_chars = sum(map(len, texts))
    jieba.initialize()
    get_segmenter(SegmenterConfig())._engine  # load dictionaries outside the timing, as for jieba
    t_jieba = best_of(repeat, lambda: [jieba.lcut(t) for t in texts])
    t_one = best_of(repeat, lambda: zhili.tokens(c, cache=False, n_jobs=1))
    t_two = best_of(repeat, lambda: zhili.tokens(c, cache=False, n_jobs=2))
    print(f"\n## Throughput: normalise + segment + filter, {len(texts)} government reports, {n_chars:,} chars")
    print(f"jieba.lcut, 1 process     {t_jieba:7.2f} s  {n_chars / t_jieba / 1e6:6.2f} M chars/s")
    print(f"zhili.tokens, 1 process   {t_one:7.2f} s  {n_chars / t_one / 1e6:6.2f} M chars/s   x{t_jieba / t_one:.1f} jieba.lcut")
    print(f"zhili.tokens, 2 processes {t_two:7.2f} s  {n_chars / t_two / 1e6:6.2f} M chars/s   x{t_one / t_two:.2f} vs 1 process")


def second_run(data: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = zhili.RunSettings(sources=[str(data / "gov_work_reports" / "docs.jsonl.gz")], out=f"{tmp}/out",
                                     report=False)
        import os

        os.environ["ZHILI_CACHE_DIR"] = f"{tmp}/cache"
        first = zhili.run(settings).manifest["timings"]["segment"]
        second = zhili.run(settings).manifest["timings"]["segment"]
    print("\n## Cache: segmentation time of a second `zhili run` over the same corpus")
    print(f"first {first:.3f} s, second {second:.3f} s = {100 * second / first:.1f}% of the first")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    sighan(a.data)
    throughput(a.data, a.repeat)
    second_run(a.data)


if __name__ == "__main__":
    main()
