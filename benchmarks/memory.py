"""Does memory stay flat as the dataset grows? Peak RSS of a run over N vs 10 x N images.

Runs `fairness-eval run` as a child process over the dataset (N rows) and over the dataset
repeated --factor times (symlinks with distinct stems, see replicated_dataset.py), and
prints for each: wall time, the peak RSS of the largest process (wait4's ru_maxrss), the
main process's VmHWM, and the sampled peak of the whole process tree's summed RSS; then the
growth ratios. Target (issue 6): the 10x run's peak RSS grows by less than 20%.

    .venv/bin/python benchmarks/memory.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from replicated_dataset import DEFAULT_DATASET, ChildRun, run_child, write_replicated_manifest

from fairness_eval.config.settings import cpu_count  # path set by replicated_dataset

MIB = 1024 * 1024


def measure(manifest: Path, out: Path, workers: int) -> ChildRun:
    child = run_child(["run", "--dataset", str(manifest), "--out", str(out), "--overwrite",
                       "--workers", str(workers), "--format", ""])
    if child.returncode != 0:
        raise SystemExit(f"fairness-eval run failed ({child.returncode}):\n"
                         f"{child.stderr[-2000:]}")
    return child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, cpu_count()}))
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="fe-memory-"))
    small, n_small = write_replicated_manifest(args.dataset, scratch / "x1", 1)
    large, n_large = write_replicated_manifest(args.dataset, scratch / "large", args.factor)
    print(f"dataset {args.dataset}: {n_small} rows vs {n_large} rows ({args.factor}x)")
    print(f"  {'workers':>7} {'rows':>6} {'seconds':>8} {'max RSS':>9} {'main HWM':>9} "
          f"{'tree peak':>9}   (MiB)")
    for workers in args.workers:
        runs = {}
        for rows, manifest in ((n_small, small), (n_large, large)):
            child = measure(manifest, scratch / f"out-{workers}-{rows}", workers)
            runs[rows] = child
            print(f"  {workers:>7} {rows:>6} {child.seconds:>8.1f} "
                  f"{child.max_rss_bytes / MIB:>9.1f} {child.main_hwm_bytes / MIB:>9.1f} "
                  f"{child.tree_peak_bytes / MIB:>9.1f}")
        a, b = runs[n_small], runs[n_large]
        growth = b.max_rss_bytes / a.max_rss_bytes - 1
        print(f"  {workers:>7} growth for {args.factor}x the images: max RSS "
              f"{100 * growth:+.1f}% (target < +20%), main HWM "
              f"{100 * (b.main_hwm_bytes / a.main_hwm_bytes - 1):+.1f}%, tree peak "
              f"{100 * (b.tree_peak_bytes / a.tree_peak_bytes - 1):+.1f}%"
              f"  -> {'PASS' if growth < 0.20 else 'MISS'}")


if __name__ == "__main__":
    main()
