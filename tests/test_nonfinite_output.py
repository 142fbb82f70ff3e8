"""A model output holding NaN or inf is a problem of its row, never read as background."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fairness_eval.data.samples import Sample
from fairness_eval.models.runtimes import TensorInfo
from fairness_eval.models.spec import ModelSpec
from fairness_eval.models.tensors import NonFiniteOutput, decode_output, plan_tensors

VOC = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "voc2012_person"


def _plan(layout_channels: int):
    spec = ModelSpec(Path("net.tflite"), "net", source=Path("spec.toml"))
    return plan_tensors(spec, TensorInfo("in", (1, 8, 8, 3), "float32", 0.0, 0),
                        TensorInfo("out", (1, 8, 8, layout_channels), "float32", 0.0, 0))


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_float_output_with_nan_or_inf_is_refused_with_the_count(channels, bad):
    raw = np.full((1, 8, 8, channels), 0.25, np.float32)
    raw[0, 1, 2, 0] = bad
    raw[0, 5, 5, 0] = bad
    with pytest.raises(NonFiniteOutput, match=r"^model output holds 2 NaN/inf values$"):
        decode_output(raw, _plan(channels))


def test_a_finite_output_decodes_as_before():
    raw = np.full((1, 8, 8, 1), 0.75, np.float32)
    assert (decode_output(raw, _plan(1)) == np.float32(0.75)).all()


def _sample(stem: str, row: int) -> Sample:
    return Sample(row, stem, VOC / "images" / f"{stem}.jpg", VOC / "masks" / f"{stem}.png",
                  ignore=VOC / "ignore" / f"{stem}.png")


def test_a_nan_output_makes_a_skipped_row_through_the_per_image_job(model_file):
    """The real model and images; the runtime's output for one image gets 7 NaNs."""
    from fairness_eval.evaluation.images import read_rgb
    from fairness_eval.evaluation.per_image import evaluate_samples
    from fairness_eval.models.segmenter import Segmenter

    stems = sorted(p.stem for p in (VOC / "masks").glob("*.png"))[:3]
    samples = [_sample(stem, row) for row, stem in enumerate(stems, start=1)]
    segmenter = Segmenter(model_file.path)
    clean = evaluate_samples(samples, segmenter, 0.5)
    poisoned = segmenter.model_input(read_rgb(samples[1].image)).tensor
    runtime = segmenter._runtime
    run_one, run_many = runtime.run, runtime.run_many

    def spoil(tensors: np.ndarray, raw: np.ndarray) -> np.ndarray:
        raw = raw.copy()
        for k in range(len(tensors)):
            if np.array_equal(tensors[k:k + 1], poisoned):
                raw[k].reshape(-1)[:7] = np.nan
        return raw

    runtime.run = lambda tensor: spoil(tensor, run_one(tensor))
    runtime.run_many = lambda tensors: spoil(tensors, run_many(tensors))
    rows = evaluate_samples(samples, segmenter, 0.5)
    assert [r["status"] for r in rows] == ["ok", "skipped", "ok"]
    assert rows[1]["reason"] == (f"{samples[1].image}: could not be segmented (model output "
                                 "holds 7 NaN/inf values)")
    for before, after in zip(clean[::2], rows[::2], strict=True):
        assert after["intersection"] == before["intersection"] > 0
        assert after["union"] == before["union"]
