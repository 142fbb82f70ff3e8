"""Every working third-party model, fed by its example spec, on real photographs.

For each model in ../shared/models/portrait_segmentation, the spec in
examples/model-specs/ must give a mean person IoU on the first 40 CCP images (sorted by
name, threshold 0.5) within 0.02 of the sanity figure SOURCE.md gives for a correct
configuration; a wrong normalisation drops far below it. The figures are read from
SOURCE.md itself, not copied here.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval.metrics.masks import mask_counts, to_binary
from fairness_eval.models.segmenter import Segmenter
from fairness_eval.models.spec import load_model_spec

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO.parent / "shared" / "models" / "portrait_segmentation"
EXAMPLES = REPO / "examples" / "model-specs"
IMAGES = 40
TOLERANCE = 0.02

pytestmark = pytest.mark.skipif(not MODELS.is_dir(), reason=f"shared models missing: {MODELS}")


def sanity_figures() -> dict[str, float]:
    """SOURCE.md's table: model file stem -> CCP IoU (the last column)."""
    figures = {}
    for line in (MODELS / "SOURCE.md").read_text().splitlines():
        match = re.match(r"\|\s*`([^`]+)`\s*\|.*\|\s*(\d\.\d+)[^|]*\|\s*$", line)
        if match:
            figures[Path(match.group(1)).stem] = float(match.group(2))
    return figures


@pytest.fixture(scope="module")
def ccp_first_40(ccp_dataset: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    stems = sorted(p.stem for p in (ccp_dataset / "images").glob("*.jpg"))[:IMAGES]
    pairs = []
    for stem in stems:
        image = cv2.cvtColor(cv2.imread(str(ccp_dataset / "images" / f"{stem}.jpg")),
                             cv2.COLOR_BGR2RGB)
        truth = to_binary(cv2.imread(str(ccp_dataset / "masks" / f"{stem}.png"),
                                     cv2.IMREAD_GRAYSCALE))
        pairs.append((image, truth))
    return pairs


def mean_iou(segmenter: Segmenter, pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    return float(np.mean([mask_counts(segmenter.predict(image) > 0.5, truth).iou
                          for image, truth in pairs]))


def test_source_md_has_a_figure_for_every_example_spec():
    assert set(sanity_figures()) == {p.stem for p in EXAMPLES.glob("*.toml")}


@pytest.mark.real_run
@pytest.mark.parametrize(("stem", "runtime"), [
    ("mnv3_seg_float", "litert-xnnpack"),          # 2-channel logits
    ("prisma_net", "litert-xnnpack"),              # flat probability
    ("bilinear_fin_munet_uint8", "litert-xnnpack"),
    ("deeplab_aiseg_quant513", "litert-builtin"),  # uint8 input, int64 label map
    ("portrait_video_quant", "litert-builtin"),    # int8, 4 channels, zero prior on stills
    ("sinet", "onnxruntime"),                      # NCHW, BGR, ONNX
])
def test_each_model_reaches_its_sanity_iou_with_its_spec(stem, runtime, ccp_first_40):
    if runtime == "onnxruntime":
        pytest.importorskip("onnxruntime",
                            reason="ONNX Runtime is not installed (the [onnx] extra)")
    segmenter = Segmenter(load_model_spec(EXAMPLES / f"{stem}.toml"))
    assert segmenter.runtime.split()[0] == runtime
    measured = mean_iou(segmenter, ccp_first_40)
    assert abs(measured - sanity_figures()[stem]) <= TOLERANCE, measured


def test_a_wrong_normalisation_shows_as_a_low_iou(ccp_first_40):
    """The README's sanity check: SINet fed RGB in [0, 1] (the defaults) fails visibly."""
    pytest.importorskip("onnxruntime", reason="ONNX Runtime is not installed (the [onnx] extra)")
    from dataclasses import replace

    spec = load_model_spec(EXAMPLES / "sinet.toml")
    wrong = replace(spec, input=replace(spec.input, mean=(0.0,) * 3, std=(1.0,) * 3))
    measured = mean_iou(Segmenter(wrong), ccp_first_40[:10])
    assert measured < sanity_figures()["sinet"] - 0.2, measured


def test_the_video_model_carries_the_prior_in_its_fourth_channel(ccp_first_40):
    segmenter = Segmenter(load_model_spec(EXAMPLES / "portrait_video_quant.toml"))
    scale, zero_point = segmenter.plan.input.scale, segmenter.plan.input.zero_point
    image = ccp_first_40[0][0]
    first = segmenter.segment(image)  # a first frame: no prior
    assert first.model_probability.shape == (224, 224)
    still = segmenter.input_tensor(image)
    assert still.shape == (1, 224, 224, 4) and still.dtype == np.int8
    assert (still[0, ..., 3] == zero_point).all()  # probability 0 quantised: -13
    fed = segmenter.input_tensor(image, prior=first.model_probability)
    expected = np.clip(np.rint(first.model_probability.astype(np.float64) / scale) + zero_point,
                       -128, 127)
    np.testing.assert_array_equal(fed[0, ..., 3], expected)
    assert fed[0, ..., 3].max() > 0  # the person's probability reaches the model
    np.testing.assert_array_equal(fed[0, ..., :3], still[0, ..., :3])
    # the colour channels: BGR, (pixel - [103.94, 116.78, 123.68]) * 0.017, quantised
    resized = cv2.resize(image, (224, 224), interpolation=cv2.INTER_LINEAR)[..., ::-1]
    real = (resized - np.array([103.94, 116.78, 123.68])) * 0.017
    colour = np.clip(np.rint(real / scale) + zero_point, -128, 127)
    assert np.mean(fed[0, ..., :3] == colour) > 0.999  # last-bit ties of two formulas
    # the second frame's prediction depends on the prior fed back
    second = segmenter.segment(image, prior=first.model_probability)
    assert not np.array_equal(second.model_probability, first.model_probability)
