"""How fast fairness-eval evaluates images, against the limit and against MediaPipe.

Prints, in one run over the same images (medians over --repeats, measurements interleaved
so that noise from other work on the machine falls on all of them alike):

(i)   the limit: decode + preprocess + invoke + IoU per image, measured alone in this
      process with the library's own functions (evaluation.images read_rgb / read_mask,
      Segmenter.predict, metrics.mask_counts), one thread, no orchestration;
(ii)  `fairness-eval run` end to end (a child process: start-up, validation, hashing, the
      durable store, statistics, writing results) with 1 worker and with all cores, over
      the dataset repeated --copies times (symlinks with distinct stems) so that start-up
      is spread over enough images; a 1-copy run gives the fixed cost and the marginal
      per-image cost;
(iii) MediaPipe's own solution API (`mediapipe.solutions.selfie_segmentation`: imread,
      BGR->RGB, process, mask > threshold) over the same images, as it runs and pinned to
      one core, in this interpreter when mediapipe is importable, else in the one given by
      --mediapipe-python (mediapipe 0.10.21 clashes with this project's pins).

Targets (issue 6): 1 worker within 1.15x of the limit; all cores at least 1.8x faster than
1 worker; all cores at least 2x MediaPipe's throughput.

    .venv/bin/python benchmarks/throughput.py --mediapipe-python /tmp/mp-venv/bin/python
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
from replicated_dataset import DEFAULT_DATASET, run_child, write_replicated_manifest

from fairness_eval.config.settings import cpu_count
from fairness_eval.data.dataset import load_dataset  # path set by replicated_dataset
from fairness_eval.data.samples import Sample
from fairness_eval.evaluation.images import read_mask, read_rgb
from fairness_eval.metrics.masks import mask_counts
from fairness_eval.models.registry import resolve_model
from fairness_eval.models.segmenter import Segmenter

THRESHOLD = 0.5

# Runs under MediaPipe's interpreter: argv = images.json, repeats, pin (0/1), result.json.
MEDIAPIPE_SOURCE = r"""
import json, os, sys, time
images, repeats = json.load(open(sys.argv[1])), int(sys.argv[2])
pin, result = sys.argv[3], sys.argv[4]
if pin == "1":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import cv2
import mediapipe as mp
seconds = []
with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as segmenter:
    for path in images[:10]:  # warm-up
        segmenter.process(cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB))
    for _ in range(repeats):
        start = time.perf_counter()
        for path in images:
            rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
            person = segmenter.process(rgb).segmentation_mask > THRESHOLD
        seconds.append((time.perf_counter() - start) / len(images))
json.dump({"seconds_per_image": seconds, "version": mp.__version__}, open(result, "w"))
"""


def limit_seconds_per_image(samples: list[Sample], segmenter: Segmenter) -> float:
    """Decode + preprocess + invoke + IoU of every sample, nothing else; seconds per image."""
    start = time.perf_counter()
    for sample in samples:
        image = read_rgb(sample.image)
        shape = image.shape[:2]
        truth = read_mask(sample.mask, shape, "mask")
        ignore = read_mask(sample.ignore, shape, "ignore mask") if sample.ignore else None
        mask_counts(segmenter.predict(image) > THRESHOLD, truth, ignore)
    return (time.perf_counter() - start) / len(samples)


def run_seconds(manifest: Path, out: Path, workers: int) -> tuple[float, float]:
    """Wall and CPU time of one `fairness-eval run` child over `manifest`."""
    child = run_child(["run", "--dataset", str(manifest), "--out", str(out), "--overwrite",
                       "--workers", str(workers), "--threshold", str(THRESHOLD),
                       "--format", ""])
    if child.returncode != 0:
        sys.exit(f"fairness-eval run failed ({child.returncode}):\n{child.stderr[-2000:]}")
    return child.seconds, child.cpu_seconds


def mediapipe_python(option: str | None) -> str | None:
    if importlib.util.find_spec("mediapipe") is not None:
        return sys.executable
    return option


def mediapipe_seconds(python: str, images: list[str], repeats: int, pin: bool,
                      scratch: Path) -> list[float]:
    listing, result = scratch / "mp_images.json", scratch / "mp_result.json"
    listing.write_text(json.dumps(images))
    source = MEDIAPIPE_SOURCE.replace("THRESHOLD", repr(THRESHOLD))
    done = subprocess.run([python, "-c", source, str(listing), str(repeats), "1" if pin else "0",
                           str(result)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"MediaPipe run with {python} failed:\n{done.stderr[-2000:]}")
    return json.loads(result.read_text())["seconds_per_image"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--copies", type=int, default=5,
                        help="times the dataset is repeated for the end-to-end runs")
    parser.add_argument("--workers", type=int, default=cpu_count(),
                        help="'all cores' (default: the cores this process may use)")
    parser.add_argument("--mediapipe-python",
                        default=os.environ.get("FAIRNESS_EVAL_MEDIAPIPE_PYTHON"),
                        help="python of a venv with mediapipe==0.10.21 (when not importable "
                             "here); default $FAIRNESS_EVAL_MEDIAPIPE_PYTHON")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    samples = load_dataset(args.dataset).samples
    segmenter = Segmenter(resolve_model("selfie").path, threads=1)
    mp_python = mediapipe_python(args.mediapipe_python)
    scratch = Path(tempfile.mkdtemp(prefix="fe-throughput-"))
    one_copy, n_one = write_replicated_manifest(args.dataset, scratch / "x1", 1)
    many, n_many = write_replicated_manifest(args.dataset, scratch / "many", args.copies)
    images = [str(s.image) for s in samples]
    load = os.getloadavg()[0]

    limit_seconds_per_image(samples[:20], segmenter)  # warm-up: file cache, interpreter
    figures: dict[str, list[float]] = {k: [] for k in
                                       ("limit", "run1", "run1_one_copy", "run_all", "mp",
                                        "mp_one_core")}
    cpu: dict[str, list[float]] = {"limit": [], "run1": [], "run_all": []}
    for repeat in range(args.repeats):
        started = time.process_time()
        figures["limit"].append(limit_seconds_per_image(samples, segmenter))
        cpu["limit"].append((time.process_time() - started) / len(samples))
        for key, manifest, rows, workers in (("run1", many, n_many, 1),
                                             ("run1_one_copy", one_copy, n_one, 1),
                                             ("run_all", many, n_many, args.workers)):
            wall, cpu_seconds = run_seconds(manifest, scratch / f"out-{key}", workers)
            figures[key].append(wall / rows)
            if key in cpu:
                cpu[key].append(cpu_seconds / rows)
        if mp_python:
            figures["mp"].extend(mediapipe_seconds(mp_python, images, 1, False, scratch))
            figures["mp_one_core"].extend(mediapipe_seconds(mp_python, images, 1, True, scratch))
        print(f"repeat {repeat + 1}/{args.repeats}: " + ", ".join(
            f"{k} {v[-1] * 1e3:.2f}" for k, v in figures.items() if v) + " ms/image",
            file=sys.stderr)

    med = {k: statistics.median(v) for k, v in figures.items() if v}
    marginal = (med["run1"] * n_many - med["run1_one_copy"] * n_one) / (n_many - n_one) \
        if n_many != n_one else float("nan")
    fixed = med["run1_one_copy"] * n_one - marginal * n_one  # seconds whatever the size
    speedup = med["run1"] / med["run_all"]

    def line(label: str, key: str, note: str = "") -> None:
        ms = med[key] * 1e3
        spread = ", ".join(f"{v * 1e3:.2f}" for v in figures[key])
        print(f"  {label:<44} {ms:7.2f} ms  {1 / med[key]:7.1f} img/s   [{spread}]  {note}")

    print(f"dataset {args.dataset} ({len(samples)} images); end-to-end runs over {args.copies} "
          f"copies ({n_many} rows); {args.repeats} repeats, medians; cores here: {os.cpu_count()}"
          f", load average at start {load:.2f} (machine shared: timings are noisy)")
    line("(i)   limit: decode+preprocess+invoke+IoU", "limit")
    line(f"(ii)  fairness-eval run, 1 worker ({n_many} rows)", "run1",
         f"{med['run1'] / med['limit']:.3f}x the limit (target <= 1.15)")
    line(f"      fairness-eval run, 1 worker ({n_one} rows)", "run1_one_copy",
         f"{med['run1_one_copy'] / med['limit']:.3f}x the limit")
    print(f"      -> fixed cost {fixed:.2f} s, marginal {marginal * 1e3:.2f} ms/image = "
          f"{marginal / med['limit']:.3f}x the limit")
    line(f"      fairness-eval run, {args.workers} workers ({n_many} rows)", "run_all",
         f"{speedup:.2f}x faster than 1 worker (target >= 1.8)")
    cpu_med = {k: statistics.median(v) * 1e3 for k, v in cpu.items()}
    print(f"  CPU time per image (user + system, all processes; less sensitive to other "
          f"work on the machine): limit {cpu_med['limit']:.2f} ms, 1 worker "
          f"{cpu_med['run1']:.2f} ms ({cpu_med['run1'] / cpu_med['limit']:.3f}x), "
          f"{args.workers} workers {cpu_med['run_all']:.2f} ms "
          f"({cpu_med['run_all'] / cpu_med['run1']:.3f}x the 1-worker CPU)")
    if "mp" in med:
        line("(iii) MediaPipe solution API", "mp")
        line("      MediaPipe solution API, pinned to 1 core", "mp_one_core")
        print(f"  throughput, fairness-eval {args.workers} workers vs MediaPipe: "
              f"{med['mp'] / med['run_all']:.2f}x (target >= 2); vs MediaPipe on 1 core: "
              f"{med['mp_one_core'] / med['run_all']:.2f}x; fairness-eval 1 worker vs "
              f"MediaPipe on 1 core: {med['mp_one_core'] / med['run1']:.2f}x")
    else:
        print("(iii) MediaPipe: not importable and no --mediapipe-python given; not measured")
    if args.json:
        args.json.write_text(json.dumps({"seconds_per_image": figures, "medians": med,
                                         "cpu_seconds_per_image": cpu,
                                         "fixed_seconds": fixed, "marginal": marginal,
                                         "speedup": speedup, "rows": n_many,
                                         "load_average": load}, indent=2))


if __name__ == "__main__":
    main()
