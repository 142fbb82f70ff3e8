"""Frames per second of a video run against images per second of a stills run, one worker.

Both are `run_evaluation` end to end in this process (validation, hashing, the durable
store, every metric, statistics over 1000 resamples, results written; no reports), with
one worker and one LiteRT thread, medians over --repeats, the two interleaved so that noise
from other work on the machine falls on both alike:

- video:  the shared DAVIS clips (every frame annotated, 854 x 480): IoU, Boundary IoU
          and flicker per frame, clips as the statistics' unit;
- stills: the shared VOC images (about 500 x 375): IoU and Boundary IoU per image.

The frames differ in size from the images, so megapixels per second are printed too. With
--portrait, the stateful portrait video model (its prior fed back) is timed on the clips
as well (LiteRT's built-in kernels: XNNPack refuses it).

    .venv/bin/python benchmarks/video_throughput.py --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from fairness_eval.config.settings import Settings  # noqa: E402
from fairness_eval.data.dataset import load_dataset  # noqa: E402
from fairness_eval.data.imageheader import read_image_info  # noqa: E402
from fairness_eval.workflow.run import run_evaluation  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared" / "datasets"
VIDEO = SHARED / "davis2016_person"
STILLS = SHARED / "voc2012_person"
PORTRAIT = PROJECT_ROOT / "examples" / "model-specs" / "portrait_video_quant.toml"


def units_and_pixels(dataset: Path) -> tuple[int, float]:
    """Frames (video) or images (stills) a run evaluates, and their megapixels."""
    loaded = load_dataset(dataset)
    if hasattr(loaded, "clips_to_run"):
        frames = [f.image for c in loaded.clips_to_run() for f in c.frames]
    else:
        frames = [s.image for s in loaded.samples]
    pixels = sum(info.width * info.height for info in map(read_image_info, frames))
    return len(frames), pixels / 1e6


def timed_run(dataset: Path, model: str, scratch: Path) -> float:
    """Seconds of one end-to-end run, one worker."""
    out = scratch / f"run-{time.monotonic_ns()}"
    settings = Settings(model=model, out=out, workers=1, threads=1, formats=(),
                        bootstrap=1000)
    started = time.perf_counter()
    run_evaluation(dataset, settings).lock.release()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--portrait", action="store_true",
                        help="also time the stateful portrait video model on the clips")
    args = parser.parse_args()
    cases = [("video (DAVIS, selfie)", VIDEO, "selfie"),
             ("stills (VOC, selfie)", STILLS, "selfie")]
    if args.portrait:
        cases.append(("video (DAVIS, portrait, prior fed back)", VIDEO, str(PORTRAIT)))
    sizes = {path: units_and_pixels(path) for _, path, _ in cases}
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    with tempfile.TemporaryDirectory() as folder:
        timed_run(STILLS, "selfie", Path(folder))  # warm the caches and the model file
        for _ in range(args.repeats):
            for name, path, model in cases:
                seconds[name].append(timed_run(path, model, Path(folder)))
    print(f"one worker, one thread, median of {args.repeats} end-to-end runs")
    print(f"{'':42s} {'units':>6s} {'MP':>7s} {'seconds':>8s} {'units/s':>8s} {'MP/s':>6s}")
    for name, path, _ in cases:
        units, megapixels = sizes[path]
        median = statistics.median(seconds[name])
        unit = "frames/s" if name.startswith("video") else "images/s"
        print(f"{name:42s} {units:6d} {megapixels:7.1f} {median:8.2f} {units / median:8.1f} "
              f"{megapixels / median:6.1f}   ({unit})")


if __name__ == "__main__":
    main()
