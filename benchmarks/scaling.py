"""Images per second against workers, local processes and Dask, measured side by side.

For each executor and each worker count from 1 to the cores present (or --workers), opens
the executor as `run` does (local: forked processes; dask: a LocalCluster of N one-thread
workers), evaluates the same images (the dataset repeated --copies times) through
`executor.run`, and closes it. Prints per setting the median over --repeats of: start-up
(executor opened and the first row back), steady throughput (images/s from the first row to
the last), and CPU time per image of the whole process tree; then each setting's speed-up
over 1 worker. Runs are interleaved so that load from elsewhere falls on all of them.

    .venv/bin/python benchmarks/scaling.py --repeats 3
    .venv/bin/python benchmarks/scaling.py --executors local --workers 1 2 4 8 16
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from replicated_dataset import DEFAULT_DATASET, write_replicated_manifest

from fairness_eval.config.settings import cpu_count  # path set by replicated_dataset
from fairness_eval.data.dataset import load_dataset
from fairness_eval.evaluation.executors import open_executor
from fairness_eval.evaluation.tasks import WorkerSetup, sample_tasks
from fairness_eval.models.registry import resolve_model


@dataclass
class Measured:
    startup_s: float  # executor opened until the first task's rows are back
    images_per_s: float  # first row to last row
    cpu_ms_per_image: float  # user + system of this process and its reaped children
    wall_s: float


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(kind: str, workers: int, samples: list, setup: WorkerSetup) -> Measured:
    cpu, started = _cpu_seconds(), time.perf_counter()
    first = None
    rows = 0
    with open_executor(kind, setup, workers=workers) as executor:
        for task_rows in executor.run(sample_tasks(samples, executor.workers)):
            rows += len(task_rows)
            if first is None:
                first, first_rows = time.perf_counter(), rows
    ended = time.perf_counter()
    # Dask's LocalCluster workers are reaped at close: their CPU is in RUSAGE_CHILDREN.
    assert rows == len(samples), f"{kind}: {rows} rows for {len(samples)} samples"
    return Measured(first - started, (rows - first_rows) / max(ended - first, 1e-9),
                    1e3 * (_cpu_seconds() - cpu) / rows, ended - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--copies", type=int, default=2,
                        help="times the dataset is repeated (default 2: 600 VOC images)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+",
                        default=list(range(1, cpu_count() + 1)))
    parser.add_argument("--executors", nargs="+", default=["local", "dask"],
                        choices=["local", "dask"])
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if "dask" in args.executors and importlib.util.find_spec("distributed") is None:
        print("dask.distributed not installed: measuring local only", file=sys.stderr)
        args.executors = [e for e in args.executors if e != "dask"]

    scratch = Path(tempfile.mkdtemp(prefix="fe-scaling-"))
    manifest, rows = write_replicated_manifest(args.dataset, scratch, args.copies)
    samples = load_dataset(manifest).samples
    setup = WorkerSetup(str(resolve_model("selfie").path))
    settings = [(kind, n) for kind in args.executors for n in args.workers]
    found: dict[tuple[str, int], list[Measured]] = {s: [] for s in settings}
    load = os.getloadavg()[0]
    for repeat in range(args.repeats):
        for kind, workers in settings:
            found[(kind, workers)].append(measure(kind, workers, samples, setup))
            last = found[(kind, workers)][-1]
            print(f"repeat {repeat + 1}/{args.repeats} {kind} x{workers}: "
                  f"{last.images_per_s:.1f} img/s, start-up {last.startup_s:.2f} s",
                  file=sys.stderr)

    def median(key: tuple[str, int], field: str) -> float:
        return statistics.median(getattr(m, field) for m in found[key])

    print(f"dataset {args.dataset} x{args.copies} ({rows} images); {args.repeats} repeats, "
          f"medians; cores here {os.cpu_count()} (this process may use {cpu_count()}); "
          f"load average at start {load:.2f}")
    print(f"  {'executor':<8} {'workers':>7} {'img/s':>8} {'speed-up':>8} {'start-up s':>10} "
          f"{'CPU ms/img':>10} {'wall s':>7}")
    for kind, workers in settings:
        key = (kind, workers)
        base = (kind, args.workers[0])
        speedup = median(key, "images_per_s") / median(base, "images_per_s")
        print(f"  {kind:<8} {workers:>7} {median(key, 'images_per_s'):>8.1f} "
              f"{speedup:>7.2f}x {median(key, 'startup_s'):>10.2f} "
              f"{median(key, 'cpu_ms_per_image'):>10.2f} {median(key, 'wall_s'):>7.2f}")
    if "local" in args.executors and "dask" in args.executors:
        ratios = [median(("dask", n), "images_per_s") / median(("local", n), "images_per_s")
                  for n in args.workers]
        print("  dask / local throughput: " + ", ".join(
            f"{n} workers {r:.2f}x" for n, r in zip(args.workers, ratios, strict=True)))
    if args.json:
        args.json.write_text(json.dumps(
            {f"{kind}:{n}": [asdict(m) for m in found[(kind, n)]] for kind, n in settings},
            indent=2))


if __name__ == "__main__":
    main()
