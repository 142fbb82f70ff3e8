"""A dataset folder repeated K times, and timed `fairness-eval run` child processes.

Shared by the throughput and memory benchmarks. The loader refuses two rows with the same
image stem, so each copy of an image is a symlink with its own stem (`c3_000032.jpg`) in a
scratch folder; masks, ignore masks, other annotators' masks and attributes are the
originals', named by absolute path in a CSV manifest. Nothing is copied.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from fairness_eval.data.dataset import load_dataset  # noqa: E402

DEFAULT_DATASET = PROJECT_ROOT.parent / "shared" / "datasets" / "voc2012_person"
# The console script's own code, run by this interpreter: no dependence on PATH.
CLI = [sys.executable, "-c",
       "import sys; sys.argv[0] = 'fairness-eval'; from fairness_eval.cli import main; main()"]


def write_replicated_manifest(dataset: Path, folder: Path, copies: int) -> tuple[Path, int]:
    """A manifest listing every valid row of `dataset` `copies` times; (path, rows)."""
    loaded = load_dataset(dataset)
    folder.mkdir(parents=True, exist_ok=True)
    links = folder / "images"
    links.mkdir(exist_ok=True)
    annotators = sorted({name for s in loaded.samples for name in s.annotators})
    header = ["image", "mask", "ignore", *(f"mask_{a}" for a in annotators),
              *loaded.attribute_columns]
    manifest = folder / f"replicated_x{copies}.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for copy in range(copies):
            for sample in loaded.samples:
                link = links / f"c{copy}_{sample.image.name}"
                if not link.is_symlink():
                    link.symlink_to(sample.image.resolve())
                writer.writerow([
                    str(link), str(sample.mask.resolve()),
                    str(sample.ignore.resolve()) if sample.ignore else "",
                    *(str(sample.annotators[a].resolve()) if a in sample.annotators else ""
                      for a in annotators),
                    *(sample.attributes.get(c) or "" for c in loaded.attribute_columns),
                ])
    return manifest, copies * len(loaded.samples)


@dataclass
class ChildRun:
    """What one `fairness-eval run` child process took."""

    seconds: float
    cpu_seconds: float  # user + system time of the process and its reaped workers
    max_rss_bytes: int  # wait4's ru_maxrss: the largest single process of the tree
    main_hwm_bytes: int  # VmHWM of the main process, last seen
    tree_peak_bytes: int  # peak of the summed VmRSS of the process tree, sampled
    returncode: int
    stderr: str


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found.extend(int(c) for c in handle.read().split())
    except OSError:
        pass
    return found


def run_child(arguments: list[str], sample_every: float = 0.05) -> ChildRun:
    """Run `fairness-eval ARGUMENTS`, timing it and watching its memory."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen([*CLI, *arguments], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=env)
    stderr_parts: list[str] = []
    reader = threading.Thread(target=lambda: stderr_parts.append(process.stderr.read()))
    reader.start()
    main_hwm = tree_peak = 0
    while True:
        # wait4 on the one child: its rusage covers that process and its reaped workers.
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            break
        main_hwm = max(main_hwm, _status_kib(process.pid, "VmHWM"))
        tree = [process.pid, *_children(process.pid)]
        tree_peak = max(tree_peak, sum(_status_kib(p, "VmRSS") for p in tree))
        time.sleep(sample_every)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    scale = 1024 if sys.platform.startswith("linux") else 1  # ru_maxrss is KiB on Linux
    return ChildRun(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * scale,
                    main_hwm * 1024, tree_peak * 1024, process.returncode,
                    "".join(stderr_parts))


__all__ = ["CLI", "ChildRun", "DEFAULT_DATASET", "run_child", "write_replicated_manifest"]
