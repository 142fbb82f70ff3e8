"""Label agreement: Krippendorff's alpha equals the `krippendorff` package's on a real-size
vote table, its bootstrap interval is seeded and covers it, the confusion and unanimous
shares count what they say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairness_eval.data.votes import AttributeVotes, ImageVotes
from fairness_eval.errors import UsageError
from fairness_eval.results.label_agreement import LabelAgreement
from fairness_eval.stats.agreement import (
    alpha_interval,
    krippendorff_alpha,
    label_agreement,
)

krippendorff = pytest.importorskip("krippendorff")


def reliability_data(seed: int, images: int = 2000, annotators: int = 5, values: int = 10,
                     missing: float = 0.35, confusion: float = 0.4) -> np.ndarray:
    """annotators x images, NaN where an annotator gave no vote; annotators move a true
    value to a neighbour at rate `confusion`, and one annotator is biased upwards."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, values, images)
    data = np.full((annotators, images), np.nan)
    for a in range(annotators):
        step = rng.choice([-1, 1], images) * (rng.random(images) < confusion)
        if a == 0:
            step = np.where(rng.random(images) < 0.2, 2, step)
        data[a] = np.where(rng.random(images) < missing, np.nan,
                           np.clip(truth + step, 0, values - 1))
    return data


def counts_of(data: np.ndarray, values: int) -> np.ndarray:
    counts = np.zeros((data.shape[1], values))
    for row in data:
        voted = ~np.isnan(row)
        np.add.at(counts, (np.flatnonzero(voted), row[voted].astype(int)), 1)
    return counts


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
@pytest.mark.parametrize("seed, annotators, values", [(1, 3, 6), (2, 5, 10), (3, 4, 10)])
def test_alpha_equals_the_krippendorff_package(level, seed, annotators, values):
    data = reliability_data(seed, annotators=annotators, values=values)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level,
                                  value_domain=list(range(values)))
    ours = krippendorff_alpha(counts_of(data, values), level)
    assert ours == pytest.approx(expected, abs=1e-9)
    assert 0.0 < ours < 1.0


def test_ordinal_forgives_neighbours_nominal_does_not():
    data = reliability_data(4, confusion=0.6)
    counts = counts_of(data, 10)
    assert krippendorff_alpha(counts, "ordinal") > 0.9 > 0.5 > krippendorff_alpha(counts,
                                                                                  "nominal")


def test_alpha_edge_cases():
    assert krippendorff_alpha(np.array([[3, 0], [0, 2]]), "nominal") == 1.0
    # Every vote one value, or no image with two votes: undefined.
    assert krippendorff_alpha(np.array([[3, 0], [2, 0]]), "nominal") is None
    assert krippendorff_alpha(np.array([[1, 0], [0, 1]]), "nominal") is None
    # A value absent from the votes but inside the scale changes no ordinal distance
    # between the present ones (its count is 0).
    counts = counts_of(reliability_data(5, values=6), 6)
    padded = np.concatenate([counts, np.zeros((counts.shape[0], 2))], axis=1)
    assert krippendorff_alpha(padded, "ordinal") == pytest.approx(
        krippendorff_alpha(counts, "ordinal"), abs=1e-12)


def test_alpha_interval_seeded_and_about_the_estimate():
    counts = counts_of(reliability_data(6), 10)
    alpha = krippendorff_alpha(counts, "ordinal")
    first = alpha_interval(counts, "ordinal", np.random.default_rng(1), 1000, 0.95)
    again = alpha_interval(counts, "ordinal", np.random.default_rng(1), 1000, 0.95)
    other = alpha_interval(counts, "ordinal", np.random.default_rng(2), 1000, 0.95)
    assert first == again and first != other
    low, high = first
    assert low < alpha < high and high - low < 0.05


@pytest.mark.slow
def test_alpha_interval_is_the_image_bootstrap():
    """Drawing pattern counts is drawing images: the interval matches resampling the rows
    themselves (2,000 resamples each; endpoints within Monte Carlo error)."""
    counts = counts_of(reliability_data(8, images=400, annotators=3), 10)
    rng = np.random.default_rng(3)
    direct = [krippendorff_alpha(counts[rng.integers(0, 400, 400)], "ordinal")
              for _ in range(2000)]
    low, high = alpha_interval(counts, "ordinal", np.random.default_rng(4), 2000, 0.95)
    assert low == pytest.approx(np.quantile(direct, 0.025), abs=0.004)
    assert high == pytest.approx(np.quantile(direct, 0.975), abs=0.004)


@pytest.mark.slow
def test_alpha_interval_covers_the_population_alpha():
    """Coverage: 40 vote tables of 300 images from one population; the 95 % interval holds
    the alpha of a 200,000-image table of it in 33 to 40 of them (39 with these seeds)."""
    population = krippendorff_alpha(counts_of(reliability_data(0, images=200_000), 10),
                                    "nominal")
    held = 0
    for replicate in range(40):
        counts = counts_of(reliability_data(100 + replicate, images=300), 10)
        low, high = alpha_interval(counts, "nominal", np.random.default_rng(replicate), 400,
                                   0.95)
        held += low <= population <= high
    assert 33 <= held <= 40


def votes_from(rows: dict[str, dict[str, str]], values: tuple[str, ...],
               ordinal: bool = True) -> AttributeVotes:
    images = {}
    for image, by_annotator in rows.items():
        counts: dict[str, int] = {}
        for value in by_annotator.values():
            counts[value] = counts.get(value, 0) + 1
        images[image] = ImageVotes(counts, dict(by_annotator))
    return AttributeVotes("skin_tone", values, ordinal, images, named=True)


def test_label_agreement_record():
    votes = votes_from({
        "a": {"x": "1", "y": "1", "z": "1"},
        "b": {"x": "1", "y": "2", "z": "1"},
        "c": {"x": "3", "y": "3"},
        "d": {"x": "3", "y": "2", "z": "2"},
        "e": {"x": "2"},  # one vote: not pairable, not counted in the shares
        "f": {"x": "1", "y": "3"},  # a tie: (disputed)
    }, ("1", "2", "3"))
    agreement = label_agreement(votes, seed=7, resamples=500)
    assert agreement.level == "ordinal" and agreement.annotators == 3 and agreement.images == 5
    expected = krippendorff.alpha(
        reliability_data=np.array([[1, 1, 3, 3, 2, 1], [1, 2, 3, 2, np.nan, 3],
                                   [1, 1, np.nan, 2, np.nan, np.nan]], dtype=float),
        level_of_measurement="ordinal", value_domain=[1, 2, 3])
    assert agreement.alpha == pytest.approx(expected, abs=1e-9)
    assert agreement.unanimous_share == {"(disputed)": 0.0, "1": 0.5, "2": 0.0, "3": 1.0}
    pairs = {(c.first, c.second): c for c in agreement.confusion}
    assert set(pairs) == {("x", "y"), ("x", "z"), ("y", "z")}
    xy = pairs[("x", "y")]
    assert xy.images == 5 and xy.agreement == pytest.approx(2 / 5)
    # x said 1 where y said 2 (b), x 3 where y 2 (d), x 1 where y 3 (f).
    assert xy.matrix == ((1, 1, 1), (0, 0, 0), (0, 1, 1))
    assert pairs[("x", "z")].images == 3
    record = agreement.to_json()
    assert record["alpha"] == agreement.alpha and record["seed"] == 7
    assert record["confusion"][0]["matrix"] == [[1, 1, 1], [0, 0, 0], [0, 1, 1]]
    # results.json's record reads back as written.
    assert LabelAgreement.from_json(json.loads(json.dumps(record))) == agreement
    with pytest.raises(UsageError, match=r"f.json: .*level"):
        LabelAgreement.from_json({**record, "level": "interval"}, "f.json")
    nominal = label_agreement(votes, level="nominal", resamples=0)
    assert nominal.level == "nominal" and nominal.ci is None
    assert nominal.alpha < agreement.alpha


def test_label_agreement_of_count_columns_names_no_annotator():
    votes = votes_from({"a": {"x": "1", "y": "1"}, "b": {"x": "1", "y": "2"}}, ("1", "2"))
    anonymous = AttributeVotes("t", votes.values, False,
                               {i: ImageVotes(v.counts, {}) for i, v in votes.images.items()},
                               named=False)
    agreement = label_agreement(anonymous, resamples=100)
    assert agreement.annotators is None and agreement.confusion == ()
    assert agreement.alpha == pytest.approx(label_agreement(votes, resamples=0).alpha)
    unanimous = votes_from({"a": {"x": "1", "y": "1"}, "b": {"x": "1", "y": "1"}}, ("1", "2"))
    assert label_agreement(unanimous).alpha is None
    assert "one value" in label_agreement(unanimous).note


def test_results_document_carries_label_agreement_only_when_given():
    from pathlib import Path

    from fairness_eval.results.schema import ResultsDocument

    golden = json.loads((Path(__file__).parent / "golden" / "voc_results.json").read_text())
    document = ResultsDocument.from_json(golden)
    assert document.label_agreement is None and "label_agreement" not in document.to_json()
    votes = votes_from({"a": {"x": "1", "y": "1"}, "b": {"x": "1", "y": "2"},
                        "c": {"x": "2", "y": "2"}}, ("1", "2"))
    record = {**golden, "label_agreement": {"skin_tone": label_agreement(votes).to_json()}}
    read = ResultsDocument.from_json(json.loads(json.dumps(record)))
    assert read.label_agreement["skin_tone"] == label_agreement(votes)
    assert read.to_json() == record
