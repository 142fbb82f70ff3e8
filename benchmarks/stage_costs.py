"""CPU per image of each stage of the per-image job, one thread, in a worker-like process.

Over the same photos (default: the 300 CCP photos), medians of --passes after one warm-up
pass (file cache, per-size warp tables): read + hash, JPEG decode, mask decode, MediaPipe's
warp to the model size, encode, one invoke per image, resize back, IoU, Boundary IoU; and
the model stage as a run does it (four images per invoke), where the tree has it. Only
library functions are used, so the same script measures an older checkout too:

    .venv/bin/python benchmarks/stage_costs.py
    PYTHONPATH=/path/to/older/checkout .venv/bin/python benchmarks/stage_costs.py
"""

import argparse
import statistics
import time
from pathlib import Path

import cv2

cv2.setNumThreads(1)
from fairness_eval.evaluation.memory import keep_freed_memory  # noqa: E402

keep_freed_memory()
import fairness_eval  # noqa: E402
from fairness_eval.data.dataset import load_dataset  # noqa: E402
from fairness_eval.evaluation.images import content_sha256, read_mask, read_rgb, sample_contents  # noqa: E402, E501
from fairness_eval.metrics.boundary import boundary_counts  # noqa: E402
from fairness_eval.metrics.masks import mask_counts  # noqa: E402
from fairness_eval.models.registry import resolve_model  # noqa: E402
from fairness_eval.models.resizing import to_image, to_model_size  # noqa: E402
from fairness_eval.models.segmenter import Segmenter  # noqa: E402
from fairness_eval.models.tensors import decode_output, encode_input  # noqa: E402

STAGES = ("read+hash", "JPEG decode", "mask decode", "resize", "encode", "invoke",
          "resize back", "IoU", "Boundary IoU")


def one_pass(samples: list, seg: Segmenter) -> dict[str, float]:
    """Milliseconds of CPU per image of each stage, over every sample once."""
    spent = dict.fromkeys(STAGES, 0.0)
    clock = time.process_time
    for s in samples:
        t0 = clock()
        contents = sample_contents(s)
        content_sha256(s, contents)
        t1 = clock()
        image = read_rgb(s.image, contents[s.image])
        t2 = clock()
        truth = read_mask(s.mask, image.shape[:2], "mask", contents[s.mask])
        t3 = clock()
        resized, placement = to_model_size(image, seg.plan.height, seg.plan.width,
                                           seg.model_spec.input.resize)
        t4 = clock()
        tensor = encode_input(resized, seg.model_spec.input, seg.plan, None)
        t5 = clock()
        output = seg._runtime.run(tensor)
        t6 = clock()
        predicted = to_image(decode_output(output, seg.plan), placement, *image.shape[:2]) > 0.5
        t7 = clock()
        mask_counts(predicted, truth, None)
        t8 = clock()
        boundary_counts(predicted, truth, None)
        t9 = clock()
        for stage, seconds in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4,
                                           t6 - t5, t7 - t6, t8 - t7, t9 - t8), strict=True):
            spent[stage] += seconds
    return {stage: seconds / len(samples) * 1e3 for stage, seconds in spent.items()}


def grouped_model(samples: list, seg: Segmenter) -> float:
    """Milliseconds of CPU per image of the model stage, four images per invoke."""
    images = [read_rgb(s.image) for s in samples]
    started = time.process_time()
    for start in range(0, len(images), 4):
        seg.predict_many([seg.model_input(image) for image in images[start:start + 4]])
    return (time.process_time() - started) / len(images) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(Path(__file__).resolve().parents[1].parent
                                                 / "shared" / "datasets" / "ccp_fashion"))
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    samples = load_dataset(args.dataset).samples
    seg = Segmenter(resolve_model("selfie").path, threads=1)
    one_pass(samples, seg)  # warm-up
    passes = [one_pass(samples, seg) for _ in range(args.passes)]
    median = {stage: statistics.median(p[stage] for p in passes) for stage in STAGES}
    print(f"{fairness_eval.__file__}: {len(samples)} photos, medians of {args.passes} passes, "
          "ms of CPU per image")
    print(", ".join(f"{stage} {ms:.2f}" for stage, ms in median.items())
          + f"; total with one invoke per image {sum(median.values()):.2f}")
    if hasattr(seg, "predict_many"):
        grouped = statistics.median(grouped_model(samples, seg) for _ in range(args.passes))
        print(f"model stage as a run does it (four images per invoke): {grouped:.2f}")


if __name__ == "__main__":
    main()
