"""The per-image job (fairness_eval.evaluation.per_image): one sample at a time, and several
with the model invoked on a group of images at once, on real VOC photos."""

from __future__ import annotations

import dataclasses

import pytest

from fairness_eval.data.dataset import load_dataset
from fairness_eval.evaluation import per_image
from fairness_eval.evaluation.per_image import evaluate_sample, evaluate_samples
from fairness_eval.models.segmenter import Segmenter


@pytest.fixture(scope="module")
def segmenter(model_file):
    return Segmenter(model_file.path)


@pytest.fixture
def samples_with_a_broken_photo(voc_dataset, tmp_path):
    samples = load_dataset(voc_dataset).samples[:10]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(samples[3].image.read_bytes()[:200])  # a truncated JPEG header
    samples[3] = dataclasses.replace(samples[3], image=broken)
    return samples


def test_grouped_rows_are_the_single_rows_in_order(segmenter, samples_with_a_broken_photo,
                                                   tmp_path):
    samples = samples_with_a_broken_photo
    one_by_one = [evaluate_sample(s, segmenter, 0.5) for s in samples]
    grouped = evaluate_samples(samples, segmenter, 0.5, tmp_path)
    assert grouped == one_by_one  # every number, and the skipped row in its place
    assert [r["status"] for r in grouped].count("skipped") == 1
    assert grouped[3]["status"] == "skipped" and "broken.jpg" in grouped[3]["reason"]
    assert sorted(p.stem for p in tmp_path.glob("*.png")) == sorted(
        r["image"] for r in grouped if r["status"] == "ok")
    assert segmenter._runtime._batched  # the model really ran four images per invoke


def test_large_photos_are_not_held_for_a_shared_invoke(segmenter, voc_dataset, monkeypatch):
    samples = load_dataset(voc_dataset).samples[:6]
    sizes: list[int] = []
    predict_many = Segmenter.predict_many

    def recorded(self, inputs):
        sizes.append(len(inputs))
        return predict_many(self, inputs)

    monkeypatch.setattr(Segmenter, "predict_many", recorded)
    monkeypatch.setattr(per_image, "GROUP_PIXELS", 400_000)  # two VOC photos of 500 x 375
    grouped = evaluate_samples(samples, segmenter, 0.5)
    assert max(sizes) <= 2 and sum(sizes) == 6
    assert grouped == [evaluate_sample(s, segmenter, 0.5) for s in samples]
