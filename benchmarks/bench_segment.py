"""Segmentation figures, each measured against its baseline in the same run.

    python benchmarks/bench_segment.py [--data ../shared/data] [--repeat 3]

1. SIGHAN-2005 word F1 through `zhili segment --keep-all` (cityu Traditional, pku Simplified)
   vs plain `jieba.lcut` on the raw text.
2. Throughput of normalise + segment + filter over the government work reports, as a ratio to
   `jieba.lcut` on the same text in one process, and the gain from 2 processes: warm (best of
   --repeat calls in this process, as in a notebook), cold (one call in each of --repeat fresh
   processes, as in `zhili run`; medians), and on the reports repeated 4 times.
3. A second `zhili run` over the same corpus: its segmentation time as a share of the first's.
4. The command line as a whole process: `zhili segment FILE` on the reports (one paragraph per
   line) vs a whole-process `jieba.lcut` loop over the same file, and start-up
   (`echo 推进 | zhili segment`) vs `python -c "import jieba; jieba.initialize()"`; runs of A and
   B alternate and the ratio is the median of the pairs (the compiled dictionary is cached
   by a first, untimed call, as after any first use).
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
from zhili.corpus import corpus_from_texts
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


def load_reports(data: Path) -> zhili.Corpus:
    """The reports, with every dictionary loaded (outside any timing, as for jieba)."""
    seg = get_segmenter(SegmenterConfig())
    seg._native if seg.config.resolved_backend == "native" else seg._engine  # noqa: B018
    return zhili.corpus(data / "gov_work_reports" / "docs.jsonl.gz")


def one_call(data: Path, n_jobs: int) -> None:
    """Print the seconds of one zhili.tokens call in this (fresh) process."""
    c = load_reports(data)
    t = time.perf_counter()
    zhili.tokens(c, cache=False, n_jobs=n_jobs)
    print(time.perf_counter() - t)


def throughput(data: Path, repeat: int) -> None:
    c = load_reports(data)
    texts = c.texts
    n_chars = sum(map(len, texts))
    jieba.initialize()
    t_jieba = best_of(repeat, lambda: [jieba.lcut(t) for t in texts])
    t_one = best_of(repeat, lambda: zhili.tokens(c, cache=False, n_jobs=1))
    t_two = best_of(repeat, lambda: zhili.tokens(c, cache=False, n_jobs=2))
    cold: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeat):
        for n_jobs in cold:
            out = subprocess.run([sys.executable, __file__, "--data", str(data), "--one-call", str(n_jobs)],
                                 capture_output=True, text=True, check=True).stdout
            cold[n_jobs].append(float(out.split()[-1]))
    c_one, c_two = (sorted(cold[n])[len(cold[n]) // 2] for n in (1, 2))
    big = corpus_from_texts(texts * 4)
    b_one = best_of(repeat, lambda: zhili.tokens(big, cache=False, n_jobs=1))
    b_two = best_of(repeat, lambda: zhili.tokens(big, cache=False, n_jobs=2))

    def row(name: str, seconds: float, chars: int, note: str) -> None:
        print(f"{name:34} {seconds:6.2f} s  {chars / seconds / 1e6:6.2f} M chars/s   {note}")

    print(f"\n## Throughput: normalise + segment + filter, {len(texts)} government reports, {n_chars:,} chars")
    row("jieba.lcut, 1 process", t_jieba, n_chars, "")
    row("zhili.tokens, 1 process (warm)", t_one, n_chars, f"x{t_jieba / t_one:.1f} jieba.lcut")
    row("zhili.tokens, 2 processes (warm)", t_two, n_chars, f"x{t_one / t_two:.2f} vs 1 process")
    row("zhili.tokens, 1 process (cold)", c_one, n_chars, f"x{t_jieba / c_one:.1f} jieba.lcut")
    row("zhili.tokens, 2 processes (cold)", c_two, n_chars, f"x{c_one / c_two:.2f} vs 1 process")
    row("reports x4, 1 process (warm)", b_one, 4 * n_chars, "")
    row("reports x4, 2 processes (warm)", b_two, 4 * n_chars, f"x{b_one / b_two:.2f} vs 1 process")


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


JIEBA_LCUT = """
import sys
import jieba
jieba.setLogLevel(60)
with open(sys.argv[1], encoding="utf-8") as fh, open("/dev/null", "w", encoding="utf-8") as out:
    for line in fh:
        out.write(" ".join(jieba.lcut(line.rstrip("\\n"))) + "\\n")
"""


def paired(repeat: int, a: list[str], b: list[str], stdin: bytes = b"") -> tuple[float, float, float]:
    """Median seconds of whole-process runs of a and b (alternating) and the median ratio a/b."""
    ta, tb = [], []
    for _ in range(repeat):
        for cmd, times in ((a, ta), (b, tb)):
            t = time.perf_counter()
            subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t)
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return med(ta), med(tb), med([x / y for x, y in zip(ta, tb)])


def command_line(data: Path, repeat: int) -> None:
    import json

    with tempfile.TemporaryDirectory() as tmp:
        lines = Path(tmp) / "reports.txt"
        with gzip.open(data / "gov_work_reports" / "docs.jsonl.gz", "rt", encoding="utf-8") as fh, \
                lines.open("w", encoding="utf-8") as out:
            for rec in map(json.loads, fh):
                out.writelines(p + "\n" for p in rec["text"].split("\n") if p.strip())
        script = Path(tmp) / "jieba_lcut.py"
        script.write_text(JIEBA_LCUT, encoding="utf-8")
        zhili_segment = [sys.executable, "-m", "zhili.cli", "segment"]
        subprocess.run([*zhili_segment, str(lines)], stdout=subprocess.DEVNULL, check=True)  # compile the dictionary
        za, jb, ratio = paired(repeat, [*zhili_segment, str(lines)], [sys.executable, str(script), str(lines)])
        sa, sb, s_ratio = paired(repeat, zhili_segment, [sys.executable, "-c", "import jieba; jieba.initialize()"],
                                 stdin="推进\n".encode())
    print("\n## The command line, whole processes (medians)")
    print(f"zhili segment FILE {za:.2f} s, jieba.lcut loop {jb:.2f} s: x{1 / ratio:.1f} faster")
    print(f"start-up: echo 推进 | zhili segment {sa:.2f} s, jieba.initialize() {sb:.2f} s: ratio {s_ratio:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--one-call", type=int, metavar="N_JOBS", help=argparse.SUPPRESS)  # used by throughput()
    a = p.parse_args()
    if a.one_call:
        return one_call(a.data, a.one_call)
    sighan(a.data)
    throughput(a.data, a.repeat)
    second_run(a.data)
    command_line(a.data, a.repeat)


if __name__ == "__main__":
    main()
