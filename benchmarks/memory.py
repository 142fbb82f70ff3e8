"""Does memory stay flat as the dataset grows? Peak RSS of a run over N vs 10 x N images.

Runs `fairness-eval run` as a child process over the dataset (N rows) and over the dataset
repeated --factor times (symlinks with distinct stems, see replicated_dataset.py), with each
executor (local processes; dask: a LocalCluster the run starts, whose worker processes are
the run's children) and prints for each: wall time, the peak RSS of the largest process
(wait4's ru_maxrss), the main process's VmHWM, and the sampled peak of the whole process
tree's summed RSS; then the growth ratios. Target, so that memory does not grow with the
dataset: the 10x run's peak RSS grows by less than 20%, local and Dask.

    .venv/bin/python benchmarks/memory.py
    .venv/bin/python benchmarks/memory.py --executors local dask --workers 2
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from replicated_dataset import DEFAULT_DATASET, ChildRun, run_child, write_replicated_manifest

from fairness_eval.config.settings import cpu_count  # path set by replicated_dataset

MIB = 1024 * 1024


def measure(manifest: Path, out: Path, workers: int, executor: str = "local") -> ChildRun:
    child = run_child(["run", "--dataset", str(manifest), "--out", str(out), "--overwrite",
                       "--workers", str(workers), "--format", "", "--executor", executor])
    if child.returncode != 0:
        raise SystemExit(f"fairness-eval run failed ({child.returncode}):\n"
                         f"{child.stderr[-2000:]}")
    return child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, cpu_count()}))
    parser.add_argument("--executors", nargs="+", default=["local"], choices=["local", "dask"])
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="fe-memory-"))
    small, n_small = write_replicated_manifest(args.dataset, scratch / "x1", 1)
    large, n_large = write_replicated_manifest(args.dataset, scratch / "large", args.factor)
    print(f"dataset {args.dataset}: {n_small} rows vs {n_large} rows ({args.factor}x)")
    print(f"  {'executor':<8} {'workers':>7} {'rows':>6} {'seconds':>8} {'max RSS':>9} "
          f"{'main HWM':>9} {'tree peak':>9}   (MiB)")
    for executor in args.executors:
        for workers in args.workers:
            _compare(executor, workers, ((n_small, small), (n_large, large)), scratch,
                     args.factor)


def _compare(executor: str, workers: int, sizes: tuple[tuple[int, Path], ...], scratch: Path,
             factor: int) -> None:
    runs = {}
    for rows, manifest in sizes:
        child = measure(manifest, scratch / f"out-{executor}-{workers}-{rows}", workers,
                        executor)
        runs[rows] = child
        print(f"  {executor:<8} {workers:>7} {rows:>6} {child.seconds:>8.1f} "
              f"{child.max_rss_bytes / MIB:>9.1f} {child.main_hwm_bytes / MIB:>9.1f} "
              f"{child.tree_peak_bytes / MIB:>9.1f}")
    a, b = (runs[rows] for rows, _ in sizes)
    growth = b.max_rss_bytes / a.max_rss_bytes - 1
    tree_growth = b.tree_peak_bytes / a.tree_peak_bytes - 1
    print(f"  {executor:<8} {workers:>7} growth for {factor}x the images: max RSS "
          f"{100 * growth:+.1f}% (target < +20%), main HWM "
          f"{100 * (b.main_hwm_bytes / a.main_hwm_bytes - 1):+.1f}%, tree peak "
          f"{100 * tree_growth:+.1f}%"
          f"  -> {'PASS' if max(growth, tree_growth) < 0.20 else 'MISS'}")


if __name__ == "__main__":
    main()
