"""Images per second of each model and runtime, side by side, on the same CCP images.

Every model in examples/model-specs/ (plus MediaPipe's selfie model when it is cached) is
opened in each runtime that can prepare it: LiteRT with XNNPack, LiteRT's built-in kernels,
ONNX Runtime for .onnx. Over the same decoded images (the first --images of the dataset,
sorted by name), one thread each, it times:

- predict: Segmenter.predict (resize to model size + encode + invoke + decode + resize
  back), i.e. what a run spends per image besides reading files and scoring;
- invoke: the runtime alone on an already encoded tensor.

Repeats are interleaved over all configurations (noise from other work on the machine
falls on all alike) and medians are printed. The mean IoU (threshold 0.5) of each
configuration is printed as a check that the runtime computes the same model.

    .venv/bin/python benchmarks/model_throughput.py --images 40 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from fairness_eval.errors import UsageError  # noqa: E402
from fairness_eval.metrics.masks import mask_counts, to_binary  # noqa: E402
from fairness_eval.models.registry import REGISTRY, cached_path  # noqa: E402
from fairness_eval.models.segmenter import Segmenter  # noqa: E402
from fairness_eval.models.spec import ModelSpec, default_model_spec, load_model_spec  # noqa: E402

DEFAULT_DATASET = PROJECT_ROOT.parent / "shared" / "datasets" / "ccp_fashion"
SPECS = PROJECT_ROOT / "examples" / "model-specs"
THRESHOLD = 0.5


@dataclass
class Configuration:
    label: str
    segmenter: Segmenter
    predict_seconds: list[float]
    invoke_seconds: list[float]
    mean_iou: float = float("nan")


def model_specs() -> list[ModelSpec]:
    specs = []
    selfie = cached_path(REGISTRY["selfie"])
    if selfie.exists():
        specs.append(default_model_spec(selfie, name="selfie"))
    return specs + [load_model_spec(path) for path in sorted(SPECS.glob("*.toml"))]


def configurations(specs: list[ModelSpec], threads: int) -> list[Configuration]:
    """Each spec in each runtime that prepares it; refusals are printed, not fatal."""
    found = []
    for spec in specs:
        ways = [True] if spec.path.suffix == ".onnx" else [True, False]
        for xnnpack in ways:
            try:
                segmenter = Segmenter(spec, threads=threads, xnnpack=xnnpack)
            except UsageError as error:
                print(f"  {spec.name}: not measured: {error}", file=sys.stderr)
                continue
            if xnnpack and segmenter.runtime == "litert-builtin":
                continue  # XNNPack refused it: the built-in configuration follows
            found.append(Configuration(spec.name, segmenter, [], []))
    return found


def load_images(dataset: Path, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    stems = sorted(p.stem for p in (dataset / "images").glob("*.jpg"))[:count]
    return [(cv2.cvtColor(cv2.imread(str(dataset / "images" / f"{s}.jpg")), cv2.COLOR_BGR2RGB),
             to_binary(cv2.imread(str(dataset / "masks" / f"{s}.png"), cv2.IMREAD_GRAYSCALE)))
            for s in stems]


def time_predict(segmenter: Segmenter, images: list[np.ndarray]) -> tuple[float, list]:
    start = time.perf_counter()
    predictions = [segmenter.predict(image) for image in images]
    return (time.perf_counter() - start) / len(images), predictions


def time_invoke(segmenter: Segmenter, tensors: list[np.ndarray]) -> float:
    runtime = segmenter._runtime  # the benchmark looks inside on purpose: invoke alone
    start = time.perf_counter()
    for tensor in tensors:
        runtime.run(tensor)
    return (time.perf_counter() - start) / len(tensors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    cv2.setNumThreads(1)
    load = os.getloadavg()[0]
    pairs = load_images(args.dataset, args.images)
    images = [image for image, _ in pairs]
    found = configurations(model_specs(), args.threads)
    tensors = {id(c): [c.segmenter.input_tensor(image) for image in images] for c in found}
    for config in found:  # warm-up, and the IoU check from the same predictions
        _, predictions = time_predict(config.segmenter, images[:5])
        _, predictions = time_predict(config.segmenter, images)
        config.mean_iou = float(np.mean([mask_counts(p > THRESHOLD, truth).iou
                                         for p, (_, truth) in zip(predictions, pairs,
                                                                  strict=True)]))
    for repeat in range(args.repeats):
        for config in found:
            config.predict_seconds.append(time_predict(config.segmenter, images)[0])
            config.invoke_seconds.append(time_invoke(config.segmenter, tensors[id(config)]))
        print(f"repeat {repeat + 1}/{args.repeats} done", file=sys.stderr)

    print(f"{args.dataset.name}: first {len(images)} images, {args.repeats} repeats "
          f"(medians), {args.threads} thread(s) per model; load average at start {load:.2f} "
          f"on {os.cpu_count()} cores (a shared machine makes timings noisy)")
    print(f"{'model':<32} {'runtime':<22} {'input':<20} {'predict img/s':>13} "
          f"{'invoke img/s':>13} {'ms/img':>7} {'mean IoU':>9}")
    for config in found:
        predict = statistics.median(config.predict_seconds)
        invoke = statistics.median(config.invoke_seconds)
        shape = "x".join(str(d) for d in config.segmenter.spec.input_shape)
        tensor = f"{shape} {config.segmenter.spec.input_dtype}"
        print(f"{config.label:<32} {config.segmenter.runtime:<22} {tensor:<20} "
              f"{1 / predict:13.1f} {1 / invoke:13.1f} {predict * 1e3:7.2f} "
              f"{config.mean_iou:9.4f}")


if __name__ == "__main__":
    main()
