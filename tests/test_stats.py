"""Bootstrap intervals: agreement with scipy, coverage, random streams, degenerate groups."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from fairness_eval.stats import bootstrap as stats
from fairness_eval.stats import intervals

SCIPY_METHOD = {"bca": "BCa", "percentile": "percentile"}


def iou_like(rng, n, a=1.0, b=20.0):
    """Skewed IoU-like values: 1 - Beta(a, b), mean 1 - a / (a + b)."""
    return 1.0 - rng.beta(a, b, n)


def monte_carlo_sd(run, seeds=range(8)):
    """Mean and SD over seeds of the (low, high) bounds that `run(seed)` returns."""
    bounds = np.array([run(seed) for seed in seeds])
    return bounds.mean(axis=0), bounds.std(axis=0, ddof=1)


def assert_within_monte_carlo(ours_mean, ours_sd, n_seeds, theirs):
    # theirs - mean(ours) has SD sqrt(sd^2 + sd^2 / n_seeds) when both estimate the same
    # bound with the same B; 4.5 SDs of that (plus float slack) is the tolerance.
    tolerance = 4.5 * ours_sd * np.sqrt(1 + 1 / n_seeds) + 1e-12
    assert np.all(np.abs(np.asarray(theirs) - ours_mean) <= tolerance), (
        ours_mean, theirs, tolerance)


@pytest.mark.parametrize("method", ["bca", "percentile"])
@pytest.mark.parametrize("n", [43, 100])
def test_group_interval_agrees_with_scipy(method, n):
    data = iou_like(np.random.default_rng(n), n)
    sample = stats.make_sample("mean", iou=data)
    resamples = 10_000

    def ours(seed):
        result = stats.stratified_bootstrap(
            [sample], [("region", "x")], seed=seed, resamples=resamples, method=method)
        return result.ci[0]

    mean, sd = monte_carlo_sd(ours)
    scipy_ci = scipy_stats.bootstrap(
        (data,), np.mean, method=SCIPY_METHOD[method], n_resamples=resamples,
        vectorized=True, confidence_level=0.95, rng=np.random.default_rng(123),
    ).confidence_interval
    assert_within_monte_carlo(mean, sd, 8, [scipy_ci.low, scipy_ci.high])
    # And the Monte Carlo error is small against the interval itself.
    assert sd.max() < 0.03 * (mean[1] - mean[0])


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_deviation_interval_agrees_with_scipy_multisample(method):
    rng = np.random.default_rng(7)
    groups = [iou_like(rng, 43), iou_like(rng, 100, 1, 10), iou_like(rng, 60, 2, 20)]
    samples = [stats.make_sample("mean", iou=g) for g in groups]
    total = sum(len(g) for g in groups)

    def deviation_of_first(a, b, c, axis=-1):
        overall = (a.sum(axis) + b.sum(axis) + c.sum(axis)) / total
        return a.mean(axis) - overall

    def ours(seed):
        result = stats.stratified_bootstrap(
            samples, [("r", str(i)) for i in range(3)], seed=seed, resamples=10_000,
            method=method, confidence=0.9)
        return result.deviation_ci[0]

    mean, sd = monte_carlo_sd(ours)
    # scipy resamples each sample independently (paired=False): a stratified bootstrap.
    scipy_ci = scipy_stats.bootstrap(
        tuple(groups), deviation_of_first, method=SCIPY_METHOD[method], n_resamples=10_000,
        vectorized=True, confidence_level=0.9, rng=np.random.default_rng(5),
    ).confidence_interval
    assert_within_monte_carlo(mean, sd, 8, [scipy_ci.low, scipy_ci.high])


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_pooled_statistic_agrees_with_scipy_paired(method):
    rng = np.random.default_rng(11)
    union = rng.integers(2_000, 60_000, 80).astype(float)
    intersection = union * iou_like(rng, 80)
    sample = stats.make_sample("pooled", intersection=intersection, union=union)
    assert sample.value == pytest.approx(intersection.sum() / union.sum())

    def ours(seed):
        return stats.stratified_bootstrap(
            [sample], [("overall",)], seed=seed, resamples=10_000, method=method).ci[0]

    mean, sd = monte_carlo_sd(ours)
    scipy_ci = scipy_stats.bootstrap(
        (intersection, union), lambda i, u, axis=-1: i.sum(axis) / u.sum(axis), paired=True,
        method=SCIPY_METHOD[method], n_resamples=10_000, vectorized=True,
        rng=np.random.default_rng(3),
    ).confidence_interval
    assert_within_monte_carlo(mean, sd, 8, [scipy_ci.low, scipy_ci.high])


def test_acceleration_of_the_mean_has_its_closed_form():
    x = iou_like(np.random.default_rng(2), 50)
    loo = (x.sum() - x) / (len(x) - 1)
    centred = x - x.mean()
    expected = (centred**3).sum() / (6 * ((centred**2).sum()) ** 1.5)
    assert intervals.jackknife_acceleration([loo[None, :]])[0] == pytest.approx(expected, rel=1e-9)


def coverage_by_simulation(seed, replicates, resamples=1_000):
    """Share of simulated datasets whose 95% BCa intervals cover the true value.

    Each dataset has a group of 43 images, IoU = 1 - Beta(8, 160) (mean 0.952, skewness
    0.7), and one of 100, IoU = 1 - Beta(2, 40) (mean 0.952, skewness 1.2). Returns
    (group, [value, deviation from the overall mean]) coverages.
    """
    rng = np.random.default_rng(seed)
    sizes, shapes = (43, 100), ((8.0, 160.0), (2.0, 40.0))
    true_means = np.array([1 - a / (a + b) for a, b in shapes])
    true_overall = (sizes[0] * true_means[0] + sizes[1] * true_means[1]) / sum(sizes)
    true_deviation = true_means - true_overall
    covered = np.zeros((2, 2))
    for replicate in range(replicates):
        samples = [
            stats.make_sample("mean", iou=iou_like(rng, n, a, b))
            for n, (a, b) in zip(sizes, shapes, strict=True)
        ]
        result = stats.stratified_bootstrap(
            samples, [("sim", "43"), ("sim", "100")], seed=replicate, resamples=resamples)
        covered[:, 0] += (result.ci[:, 0] <= true_means) & (true_means <= result.ci[:, 1])
        covered[:, 1] += ((result.deviation_ci[:, 0] <= true_deviation)
                          & (true_deviation <= result.deviation_ci[:, 1]))
    return covered / replicates


@pytest.mark.slow
def test_coverage_of_nominal_95_percent_intervals_by_simulation():
    """Coverage of the group means and deviations lies in 93-97% for n = 43 and n = 100.

    2,000 datasets: the Monte Carlo SD of a coverage near 94% is 0.53 points. (Measured
    with 6,000 datasets: 94.2% at n = 43 and 94.1% at n = 100. Bootstrap intervals are a
    little narrow at small n: even for normal data they cover ~94% at n = 43, and with
    stronger skew, 1 - Beta(1, 20) at n = 43, about 93.5%.)
    """
    coverage = coverage_by_simulation(seed=2024, replicates=2_000)
    assert np.all((coverage >= 0.93) & (coverage <= 0.97)), coverage


def test_adding_or_reordering_groups_never_changes_another_groups_interval():
    rng = np.random.default_rng(5)
    a, b, c = (stats.make_sample("mean", iou=iou_like(rng, n)) for n in (43, 100, 51))
    two = stats.stratified_bootstrap([a, b], [("region", "a"), ("region", "b")], seed=3,
                                     resamples=2_000)
    three = stats.stratified_bootstrap([c, b, a], [("region", "c"), ("region", "b"),
                                                   ("region", "a")], seed=3, resamples=2_000)
    np.testing.assert_array_equal(two.ci[0], three.ci[2])
    np.testing.assert_array_equal(two.ci[1], three.ci[1])
    # A different name (or seed) is a different stream.
    renamed = stats.stratified_bootstrap([a, b], [("region", "a2"), ("region", "b")], seed=3,
                                         resamples=2_000)
    assert not np.array_equal(two.ci[0], renamed.ci[0])
    reseeded = stats.stratified_bootstrap([a, b], [("region", "a"), ("region", "b")], seed=4,
                                          resamples=2_000)
    assert not np.array_equal(two.ci[0], reseeded.ci[0])


def test_streams_are_reproducible_and_distinct():
    first = stats.stream(0, ("region", "europe")).integers(0, 1 << 30, 5)
    again = stats.stream(0, ("region", "europe")).integers(0, 1 << 30, 5)
    other = stats.stream(0, ("skin_tone", "europe")).integers(0, 1 << 30, 5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_degenerate_groups_get_a_defined_interval_and_a_note(method):
    rng = np.random.default_rng(1)
    single = stats.make_sample("mean", iou=[0.7])
    equal = stats.make_sample("mean", iou=[0.9] * 12)
    normal = stats.make_sample("mean", iou=iou_like(rng, 60))
    result = stats.stratified_bootstrap(
        [single, equal, normal], [("g", "1"), ("g", "eq"), ("g", "n")], resamples=500,
        method=method)
    assert result.ci[0].tolist() == [0.7, 0.7]
    assert result.ci[1].tolist() == pytest.approx([0.9, 0.9])
    assert "n = 1" in result.notes[0]
    assert "same value" in result.notes[1]
    assert result.notes[2] is None
    for array in (result.ci, result.deviation_ci, result.z_ci):
        assert np.isfinite(array).all()
    # The deviations still vary with the other groups (the reference moves).
    assert result.deviation_ci[0, 0] < result.deviation_ci[0, 1]


def test_all_groups_constant_give_zero_sd_and_no_standardised_deviation():
    samples = [stats.make_sample("mean", iou=[0.8] * 5) for _ in range(3)]
    result = stats.stratified_bootstrap(samples, [("g", str(i)) for i in range(3)],
                                        resamples=200)
    assert result.sd == 0.0
    assert result.z is None and result.z_ci is None
    assert np.array_equal(result.ci, np.full((3, 2), 0.8))
    assert np.array_equal(result.deviation_ci, np.zeros((3, 2)))


def test_bca_falls_back_to_percentile_when_undefined():
    theta_b = np.linspace(0.0, 1.0, 1001)[None, :]
    bca = intervals.bca_interval(np.array([5.0]), theta_b, np.array([0.0]), 0.95)
    percentile = intervals.percentile_interval(theta_b, 0.95)
    assert bca.bca_fallback.tolist() == [True]
    assert bca.low[0] == pytest.approx(percentile.low[0])
    assert bca.high[0] == pytest.approx(percentile.high[0])


def test_percentile_interval_matches_numpy_linear_quantiles():
    theta_b = np.random.default_rng(0).normal(size=(3, 999))
    result = intervals.percentile_interval(theta_b, 0.9)
    np.testing.assert_allclose(result.low, np.quantile(theta_b, 0.05, axis=1))
    np.testing.assert_allclose(result.high, np.quantile(theta_b, 0.95, axis=1))


def test_empty_union_counts_as_perfect_agreement():
    assert stats.ratio(0.0, 0.0) == 1.0
    sample = stats.make_sample("pooled", intersection=[0, 0], union=[0, 0])
    result = stats.stratified_bootstrap([sample], [("x",)], resamples=100)
    assert result.value[0] == 1.0 and result.ci[0].tolist() == [1.0, 1.0]


def test_group_mean_reference_and_standardised_deviation():
    rng = np.random.default_rng(9)
    samples = [stats.make_sample("mean", iou=iou_like(rng, n)) for n in (40, 80, 120, 60)]
    counted = [True, True, True, False]
    result = stats.stratified_bootstrap(
        samples, [("g", str(i)) for i in range(4)], counted=counted, reference="group-mean",
        resamples=300, sd_ddof=1)
    values = np.array([s.value for s in samples])
    assert result.reference == pytest.approx(values[:3].mean())
    assert result.sd == pytest.approx(np.std(values[:3], ddof=1))
    np.testing.assert_allclose(result.z, (values - values[:3].mean()) / result.sd)


def test_per_image_spread_predicts_the_bootstrap_standard_error():
    rng = np.random.default_rng(4)
    union = rng.integers(1_000, 50_000, 200).astype(float)
    sample = stats.make_sample("pooled", intersection=union * iou_like(rng, 200), union=union)
    numerators, denominators = stats.resample_sums(sample, stats.stream(0, ("s",)), 4_000)
    bootstrap_se = stats.ratio(numerators, denominators).std()
    assert stats.per_image_spread(sample) / np.sqrt(200) == pytest.approx(bootstrap_se, rel=0.1)


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_margin_interval_agrees_with_scipy_multisample(method):
    """Criterion (a)'s margin |deviation| - 3 SD, the SD of the three group means recomputed
    in every resample, against scipy's stratified (paired=False) bootstrap. Its interval is
    the percentile one whatever the method of the others (BCa breaks at the SD's kink)."""
    rng = np.random.default_rng(11)
    groups = [iou_like(rng, 40), iou_like(rng, 90, 1, 10), iou_like(rng, 60, 2, 20)]
    samples = [stats.make_sample("mean", iou=g) for g in groups]
    total = sum(len(g) for g in groups)

    def margin_of_first(a, b, c, axis=-1):
        means = np.stack([a.mean(axis), b.mean(axis), c.mean(axis)])
        overall = (a.sum(axis) + b.sum(axis) + c.sum(axis)) / total
        return np.abs(means[0] - overall) - 3.0 * means.std(axis=0)

    def ours(seed):
        result = stats.stratified_bootstrap(
            samples, [("r", str(i)) for i in range(3)], seed=seed, resamples=10_000,
            method=method, sd_factor=3.0)
        return result.margin_ci[0]

    mean, sd = monte_carlo_sd(ours)
    scipy_ci = scipy_stats.bootstrap(
        tuple(groups), margin_of_first, method="percentile", n_resamples=10_000,
        vectorized=True, confidence_level=0.95, rng=np.random.default_rng(5),
    ).confidence_interval
    assert_within_monte_carlo(mean, sd, 8, [scipy_ci.low, scipy_ci.high])


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_intervals_read_again_at_the_run_confidence_are_the_same(method):
    rng = np.random.default_rng(2)
    samples = [stats.make_sample("mean", iou=iou_like(rng, n)) for n in (30, 45, 12)]
    result = stats.stratified_bootstrap(
        samples, [("r", str(i)) for i in range(3)], counted=[True, True, False],
        resamples=2_000, method=method, sd_factor=3.0)
    for i in (0, 1):
        assert result.interval_at("deviation", i, 0.95) == tuple(result.deviation_ci[i])
        assert result.interval_at("margin", i, 0.95) == tuple(result.margin_ci[i])
        wider = result.interval_at("margin", i, 0.99)
        assert wider[0] <= result.margin_ci[i][0] and wider[1] >= result.margin_ci[i][1]
    with pytest.raises(KeyError):  # an ungated group's distributions are not kept
        result.interval_at("deviation", 2, 0.95)


def test_margin_stays_finite_where_the_standardised_deviation_explodes():
    """Two close groups: the SD of their means nears 0 in some resamples, so the interval of
    z = deviation / SD reaches absurd values; the margin's interval stays on the IoU scale."""
    rng = np.random.default_rng(4)
    close = [np.clip(0.74 + rng.normal(0, 0.2, n), 0, 1) for n in (30, 32)]
    low = np.clip(0.55 + rng.normal(0, 0.2, 12), 0, 1)
    samples = [stats.make_sample("mean", iou=v) for v in (*close, low)]
    result = stats.stratified_bootstrap(
        samples, [("p", "f"), ("p", "m"), ("p", "child")], counted=[True, True, False],
        resamples=4_000, sd_factor=3.0)
    assert np.abs(result.z_ci[:2]).max() > 20  # the ratio's interval says nothing
    assert np.all(np.abs(result.margin_ci[:2]) < 1)  # the margin's is a difference of IoU
    assert np.all(result.margin_ci[:2, 0] < 0)  # and does not lie wholly above 0


def test_margin_of_close_groups_is_not_pushed_to_the_top_of_its_resamples():
    """Two nearly equal groups: the margin's estimate lies above most of its resamples, where
    BCa's correction would move the interval to the extreme top; it is percentile."""
    rng = np.random.default_rng(16)
    a, b = (np.clip(0.85 + rng.normal(0, 0.12, n), 0, 1) for n in (20, 32))
    b += a.mean() - b.mean() + 0.001  # means 0.1 pt apart
    samples = [stats.make_sample("mean", iou=v) for v in (a, b, np.array([0.45, 0.5]))]
    result = stats.stratified_bootstrap(
        samples, [("p", "f"), ("p", "m"), ("p", "c")], counted=[True, True, False],
        annotated=[True, True, True], resamples=4_000, sd_factor=3.0, method="bca")
    # The small low group pulls the reference 1.4 pt below both: their margins are positive.
    assert result.margin[0] > 0.01
    assert result.margin_ci[0, 0] < 0 < result.margin_ci[0, 1]
