"""The column-sums bootstrap reproduces the stratified bootstrap's draws and intervals."""

from __future__ import annotations

import numpy as np
import pytest

from fairness_eval.stats.bootstrap import make_sample, ratio, stratified_bootstrap
from fairness_eval.stats.sums import bootstrap_column_sums


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_pooled_iou_per_group_equals_the_stratified_bootstrap(method):
    rng = np.random.default_rng(5)
    groups = []
    for n in (25, 40, 1):
        union = rng.integers(50, 500, n).astype(float)
        groups.append((rng.uniform(0.3, 1.0, n) * union, union))
    keys = [("attr", name) for name in ("a", "b", "c")]
    expected = stratified_bootstrap(
        [make_sample("pooled", intersection=i, union=u) for i, u in groups], keys, seed=9,
        resamples=3000, method=method)
    result = bootstrap_column_sums(
        [np.column_stack(columns) for columns in groups], keys,
        lambda sums: ratio(sums[:, 0], sums[:, 1]), seed=9, resamples=3000, method=method)
    assert np.allclose(result.estimate, expected.value, rtol=0, atol=1e-12)
    assert np.allclose(result.ci, expected.ci, rtol=0, atol=1e-12)
    assert result.ci[2, 0] == result.ci[2, 1]  # one image: the single value
    assert (result.seed, result.resamples, result.method) == (9, 3000, method)


def test_bad_input_is_refused():
    one = np.ones((3, 2))
    with pytest.raises(ValueError, match="one key per sample"):
        bootstrap_column_sums([one], [], lambda s: s[:, 0])
    with pytest.raises(ValueError, match="same columns"):
        bootstrap_column_sums([one, np.ones((3, 3))], [("a",), ("b",)], lambda s: s[:, 0])
    with pytest.raises(ValueError, match="at least one row"):
        bootstrap_column_sums([np.ones((0, 2))], [("a",)], lambda s: s[:, 0])
    with pytest.raises(ValueError, match="method"):
        bootstrap_column_sums([one], [("a",)], lambda s: s[:, 0], method="normal")
