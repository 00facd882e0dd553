"""A rerun with a new K against the cold run, and the stage table of both (issue 12).

    python benchmarks/bench_rerun_k.py [--data ../shared/data] [--k 20 15] [--by year]

The government work reports are analysed as paragraphs with ``--by year --topics 20`` in a fresh
process with a fresh cache (cold), then again with ``--topics 15`` into another folder with the same
cache, as a researcher trying another K would. Printed: wall seconds of each whole process, the rerun
as a share of the cold run (target <= 25 %), peak RSS, and the manifest's stage timings side by side.

With ``--kill-at F`` it also measures a rerun after a kill (issue 9): the cold ``--topics 20`` run is
started again with a fresh cache, killed (SIGKILL) after F x its cold wall time, and run again to the
end; printed: that rerun as a share of the cold run, and what it reused.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_run_scale import run_zhili

REPO = Path(__file__).resolve().parents[1]


def rerun_after_kill(args: list[str], cache: Path, after: float) -> float:
    """Start ``zhili`` with ``args``, SIGKILL it after ``after`` seconds, then run it again to the end;
    returns the wall seconds of the second run."""
    env = {**os.environ, "ZHILI_CACHE_DIR": str(cache), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "zhili.cli", "-q", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=after)
        raise SystemExit(f"the run ended before the kill at {after:.1f} s; use a smaller --kill-at")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return run_zhili(args, cache)[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--k", type=int, nargs=2, default=[20, 15], metavar=("COLD", "RERUN"))
    p.add_argument("--by", default="year")
    p.add_argument("--kill-at", type=float, metavar="F", help="also measure a rerun after a kill at F x the cold time")
    a = p.parse_args()
    src = a.data / "gov_work_reports" / "docs.jsonl.gz"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = []
        for k in a.k:
            out = tmp / f"k{k}"
            wall, peak = run_zhili(["run", str(src), "--unit", "paragraph", "--by", a.by, "--topics", str(k),
                                   "--out", str(out)], tmp / "cache")
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            rows.append((k, wall, peak, manifest["timings"], manifest.get("reused", [])))
        if a.kill_at:
            args = ["run", str(src), "--unit", "paragraph", "--by", a.by, "--topics", str(a.k[0]),
                    "--out", str(tmp / "killed")]
            after_kill = rerun_after_kill(args, tmp / "cache-kill", a.kill_at * rows[0][1])
            kill_reused = json.loads((tmp / "killed" / "manifest.json").read_text(encoding="utf-8")).get("reused", [])
    (k0, w0, p0, t0, _), (k1, w1, p1, t1, reused) = rows
    print(f"cold  --topics {k0}: {w0:7.1f} s wall, peak {p0:6.0f} MiB")
    print(f"rerun --topics {k1}: {w1:7.1f} s wall, peak {p1:6.0f} MiB; reused: {', '.join(reused) or '-'}")
    print(f"rerun / cold = {w1 / w0:.2f} (target <= 0.25)\n")
    if a.kill_at:
        print(f"killed at {a.kill_at:.2f} x cold, then rerun: {after_kill:.1f} s = {after_kill / w0:.2f} of the cold "
              f"run; reused: {', '.join(kill_reused) or '-'}\n")
    print(f"{'stage':<14} {'cold s':>8} {'rerun s':>8}")
    for stage in dict.fromkeys([*t0, *t1]):
        print(f"{stage:<14} {t0.get(stage, float('nan')):8.2f} {t1.get(stage, float('nan')):8.2f}")


if __name__ == "__main__":
    main()
