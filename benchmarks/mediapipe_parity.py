"""Do fairness-eval's masks agree with MediaPipe's own selfie segmentation graph?

Runs every image of each dataset through fairness-eval's real inference path (the
pipeline's image reader, `Segmenter.predict`, probability > threshold) and through
`mediapipe.solutions.selfie_segmentation` (mediapipe 0.10.21, the graph MediaPipe ships),
and reports the per-image IoU of the two person masks. Exits 1 when a dataset's mean IoU is
below --min-mean, 2 on a usage error.

MediaPipe's dependency pins clash with this project's, so MediaPipe runs in its own virtual
environment: a small worker started with --mediapipe-python receives the decoded RGB images
over a pipe (both sides see exactly the same pixels) and sends back its float masks. The
model file is taken from that MediaPipe installation, so both sides run the same weights.

    .venv/bin/python benchmarks/mediapipe_parity.py --mediapipe-python /tmp/mp-venv/bin/python
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from fairness_eval.data.dataset import load_dataset  # noqa: E402
from fairness_eval.errors import UsageError  # noqa: E402
from fairness_eval.evaluation.images import read_rgb  # noqa: E402
from fairness_eval.metrics.masks import iou_from_counts  # noqa: E402
from fairness_eval.models.registry import REGISTRY, sha256_of  # noqa: E402
from fairness_eval.models.segmenter import Segmenter  # noqa: E402

DEFAULT_DATASETS = (
    PROJECT_ROOT.parent / "shared" / "datasets" / "voc2012_person",
    PROJECT_ROOT.parent / "shared" / "datasets" / "ccp_fashion",
)
MODEL_FOR_SELECTION = {0: "selfie", 1: "selfie-landscape"}
ARRAY_FRAME = b"A"  # precedes every array on the pipe; end of input is a closed pipe

# Runs inside the MediaPipe venv. Modes: "info" (version and model paths, JSON);
# "masks SELECTION" (the solution API's segmentation_mask per image); "tensors H W" (the
# input tensor of MediaPipe's ImageToTensorCalculator with the selfie graph's options).
WORKER_SOURCE = r'''
import io, json, os, sys
import numpy as np
# C++ logging may write to fd 1: keep the real stdout for arrays, send fd 1 to stderr.
channel = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)
import mediapipe as mp

def images():
    source = sys.stdin.buffer
    while source.read(1) == b"A":
        size = int.from_bytes(source.read(8), "little")
        yield np.load(io.BytesIO(source.read(size)), allow_pickle=False)

def send(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    channel.write(b"A" + buffer.getbuffer().nbytes.to_bytes(8, "little"))
    channel.write(buffer.getbuffer())
    channel.flush()

mode = sys.argv[1]
if mode == "info":
    folder = os.path.join(os.path.dirname(mp.__file__), "modules", "selfie_segmentation")
    channel.write(json.dumps({"version": mp.__version__, "models": {
        "0": os.path.join(folder, "selfie_segmentation.tflite"),
        "1": os.path.join(folder, "selfie_segmentation_landscape.tflite")}}).encode())
    channel.flush()
elif mode == "masks":
    selfie = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=int(sys.argv[2]))
    with selfie:
        for image in images():
            send(selfie.process(image).segmentation_mask.astype(np.float32))
elif mode == "tensors":
    from mediapipe.python import packet_creator, packet_getter
    from mediapipe.python._framework_bindings import image_frame
    height, width = int(sys.argv[2]), int(sys.argv[3])
    graph = mp.CalculatorGraph(graph_config="""
      input_stream: "image"  output_stream: "floats"
      node { calculator: "ImageToTensorCalculator" input_stream: "IMAGE:image"
             output_stream: "TENSORS:tensors"
             options { [mediapipe.ImageToTensorCalculatorOptions.ext] {
               output_tensor_width: %d output_tensor_height: %d keep_aspect_ratio: false
               output_tensor_float_range { min: 0 max: 1 } border_mode: BORDER_ZERO } } }
      node { calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:tensors"
             output_stream: "FLOATS:floats" }""" % (width, height))
    results = []
    graph.observe_output_stream(
        "floats", lambda _, packet: results.append(packet_getter.get_float_list(packet)))
    graph.start_run()
    for timestamp, image in enumerate(images()):
        frame = packet_creator.create_image_frame(
            image_format=image_frame.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        graph.add_packet_to_input_stream("image", frame.at(timestamp))
        graph.wait_until_idle()
        send(np.asarray(results.pop(), np.float32).reshape(height, width, 3))
    graph.close()
else:
    sys.exit("unknown mode " + mode)
'''


class MediaPipeWorker:
    """A MediaPipe worker process in another Python; arrays go over its stdin/stdout."""

    def __init__(self, python: Path | str, *args: str) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        try:
            self._process = subprocess.Popen(
                [str(python), "-c", WORKER_SOURCE, *args],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            )
        except OSError as error:
            raise UsageError(f"--mediapipe-python {python}: cannot run it ({error})") from None

    def process(self, image: np.ndarray) -> np.ndarray:
        """Send one array, wait for the worker's answer."""
        try:
            _write_frame(self._process.stdin, image)
            answer = _read_frame(self._process.stdout)
            if answer is not None:
                return answer
        except (BrokenPipeError, ValueError):
            pass
        raise RuntimeError(f"MediaPipe worker failed:\n{self.stderr_tail()}")

    def read_all(self) -> bytes:
        """Close the input and return everything the worker wrote (for 'info')."""
        output, _ = self._process.communicate()
        if self._process.returncode != 0:
            raise RuntimeError(self.stderr_tail(lines=1))
        return output

    def stderr_tail(self, lines: int = 15) -> str:
        self._stderr.seek(0)
        return "\n".join(self._stderr.read().decode(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=60)
        self._stderr.close()

    def __enter__(self) -> MediaPipeWorker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _write_frame(pipe: BinaryIO, array: np.ndarray) -> None:
    # np.save to a pipe fails (it asks for a file position), so arrays travel as
    # length-prefixed .npy bytes.
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    pipe.write(ARRAY_FRAME + buffer.getbuffer().nbytes.to_bytes(8, "little"))
    pipe.write(buffer.getbuffer())
    pipe.flush()


def _read_frame(pipe: BinaryIO) -> np.ndarray | None:
    if pipe.read(1) != ARRAY_FRAME:
        return None
    size = int.from_bytes(pipe.read(8), "little")
    return np.load(io.BytesIO(pipe.read(size)), allow_pickle=False)


def mediapipe_info(python: Path | str) -> dict:
    """MediaPipe's version and the paths of the model files inside that installation."""
    worker = MediaPipeWorker(python, "info")
    try:
        return json.loads(worker.read_all())
    except RuntimeError as error:
        raise UsageError(f"--mediapipe-python {python}: cannot import mediapipe ({error})"
                         ) from None
    finally:
        worker.close()


def mediapipe_outputs(python: Path | str, images: Iterable[np.ndarray], *args: str
                      ) -> Iterator[np.ndarray]:
    """Stream images through one worker ('masks SELECTION' or 'tensors H W')."""
    with MediaPipeWorker(python, *args) as worker:
        for image in images:
            yield worker.process(image)


@dataclass
class ImageParity:
    image_id: str
    intersection: int
    union: int
    max_probability_difference: float

    @property
    def iou(self) -> float:
        return iou_from_counts(self.intersection, self.union)


def compare_dataset(dataset_path: Path, segmenter: Segmenter, mediapipe_python: str,
                    model_selection: int, threshold: float) -> list[ImageParity]:
    """Per-image agreement of fairness-eval's and MediaPipe's masks over one dataset."""
    samples = load_dataset(dataset_path, check_files=False).samples
    if not samples:
        raise UsageError(f"--dataset {dataset_path}: no images")
    rows = []
    with MediaPipeWorker(mediapipe_python, "masks", str(model_selection)) as worker:
        for sample in samples:
            image = read_rgb(sample.image)
            reference = worker.process(image)
            ours = segmenter.predict(image)
            if reference.shape != ours.shape:
                raise RuntimeError(f"{sample.image}: MediaPipe mask {reference.shape} vs ours "
                                   f"{ours.shape}")
            # Both sides thresholded alike: the pipeline marks a person where p > threshold.
            a, b = ours > threshold, reference > threshold
            rows.append(ImageParity(
                sample.image_id,
                int(np.count_nonzero(a & b)),
                int(np.count_nonzero(a | b)),
                float(np.abs(ours - reference).max()),
            ))
    return rows


def summarise(name: str, rows: list[ImageParity]) -> dict:
    ious = np.array([row.iou for row in rows])
    worst = int(np.argmin(ious))
    differences = np.array([row.max_probability_difference for row in rows])
    intersection = sum(row.intersection for row in rows)
    union = sum(row.union for row in rows)
    return {
        "dataset": name,
        "n": len(rows),
        "mean_iou": float(ious.mean()),
        "median_iou": float(np.median(ious)),
        "worst_image": rows[worst].image_id,
        "worst_iou": float(ious[worst]),
        "pooled_iou": iou_from_counts(intersection, union),
        "images_below_1": int(np.count_nonzero(ious < 1.0)),
        "both_empty": sum(row.union == 0 for row in rows),
        "max_probability_difference": float(differences.max()),
        "median_max_probability_difference": float(np.median(differences)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", action="append", type=Path,
                        help="dataset folder (repeatable; default: both shared datasets)")
    parser.add_argument("--mediapipe-python", required=True,
                        help="python of a venv with mediapipe==0.10.21 installed")
    parser.add_argument("--model-selection", type=int, choices=(0, 1), default=0,
                        help="0: general model (256x256), 1: landscape (144x256)")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--min-mean", type=float, default=0.995,
                        help="exit 1 when a dataset's mean IoU is below this")
    parser.add_argument("--json", type=Path, help="also write the summaries here")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    info = mediapipe_info(args.mediapipe_python)
    model_path = Path(info["models"][str(args.model_selection)])
    registered = REGISTRY[MODEL_FOR_SELECTION[args.model_selection]]
    if sha256_of(model_path) != registered.sha256:
        raise UsageError(f"{model_path}: SHA-256 differs from the registered "
                         f"'{registered.name}' model")
    print(f"mediapipe {info['version']} ({args.mediapipe_python}); model {model_path}; "
          f"mask = probability > {args.threshold}")
    segmenter = Segmenter(model_path, threads=1)
    summaries = []
    for dataset in args.dataset or DEFAULT_DATASETS:
        started = time.perf_counter()
        rows = compare_dataset(dataset, segmenter, args.mediapipe_python,
                               args.model_selection, args.threshold)
        summary = summarise(dataset.name, rows)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        summaries.append(summary)
        print(f"{dataset.name}: n={summary['n']}  mean IoU {summary['mean_iou']:.6f}  "
              f"median {summary['median_iou']:.6f}  worst {summary['worst_image']} "
              f"{summary['worst_iou']:.6f}  pooled {summary['pooled_iou']:.6f}  "
              f"images < 1: {summary['images_below_1']}  both empty: {summary['both_empty']}  "
              f"max |dp| {summary['max_probability_difference']:.2e}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=2) + "\n")
    failing = [s["dataset"] for s in summaries if s["mean_iou"] < args.min_mean]
    if failing:
        print(f"FAIL: mean IoU below {args.min_mean} on {', '.join(failing)}")
        return 1
    print(f"OK: every mean IoU >= {args.min_mean}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
