"""Label noise: what each label policy does to group means, their intervals and the gate when
annotators confuse neighbouring skin tones.

The simulation knows the truth. Every image has a true Monk Skin Tone (1-10, drawn from
TONE_WEIGHTS) and falls in one of the bins 1-3, 4-7, 8-10; its IoU is drawn from a Beta
with its true bin's mean and SD IMAGE_SD. Three of five annotators, drawn per image, each
report its tone; annotator j reports a neighbouring tone (one step, either way) at rate
NOISE[level][j], and the last one leans darker (its one-step errors go up), at two noise
levels ("moderate", "heavy"). Votes are
binned and labelled by the policy under test (`fairness_eval.data`: `binned`,
`policy_labels`), and the groups judged by the package's statistics: `stratified_bootstrap`
(majority, unanimous and the true labels, as a control; a `(disputed)` group neither gated
nor in the reference) or `label_bootstrap` (resample; a group is gated by its majority
labels' count, as `run` gates it), percentile intervals at 95 % (`--method bca` for BCa,
run's default), and
criterion (b) of the card (`fairness.criteria.interval_verdict`, threshold 2 x (1 - 0.9874)
= 2.52 pt) on every gated group of at least MIN_GROUP_SIZE images, each at 95 % (no
family-wise correction).

With `--hard-edges PT`, the images whose true tone sits next to another bin (3, 4, 7, 8:
those a one-step confusion moves across, so those most often disputed) are PT points
harder to segment, and each bin's true mean includes them: the disputed images are then
not a random sample of their bin, as where what makes a tone hard to judge (lighting,
occlusion) makes the person hard to segment too.

Two scenarios: "fair", every bin's true mean 0.85; "unfair", bin 8-10's true mean lower,
so that its true deviation from the overall mean of the images is the threshold plus
UNFAIR_SES standard errors (so that the true labels find the violation about 85 % of the
time). Per noise level and policy it prints, over the unfair replicates (where the bins'
means differ, so that a misplaced image moves a group's mean), for the bin 8-10 (where
the gap is) and the worst of all bins:

- bias: the group estimate minus the true bin mean, in points (mean over replicates);
- coverage: the share of replicates whose 95 % interval holds the true bin mean;
- width: the mean width of bin 8-10's interval, in points;
- disputed: the share of images in the (disputed) group;

and over both scenarios:

- fair fails: the share of fair replicates in which some gated group is a violation;
- unfair passes: the share of unfair replicates in which no group is a violation;

with binomial standard errors. Everything is seeded (`SeedSequence([seed, scenario,
replicate])`). `python benchmarks/label_noise.py` takes a few minutes on one core;
`--quick` under one.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairness_eval.data.label_bins import binned, parse_bins  # noqa: E402
from fairness_eval.data.label_policies import DISPUTED, policy_labels  # noqa: E402
from fairness_eval.data.votes import AttributeVotes, ImageVotes  # noqa: E402
from fairness_eval.fairness.criteria import interval_verdict  # noqa: E402
from fairness_eval.results.names import VIOLATION  # noqa: E402
from fairness_eval.results.vocabularies import standard_vocabularies  # noqa: E402
from fairness_eval.stats.agreement import krippendorff_alpha  # noqa: E402
from fairness_eval.stats.bootstrap import make_sample, stratified_bootstrap  # noqa: E402
from fairness_eval.stats.label_resample import label_bootstrap  # noqa: E402

IMAGES = 1500
TONE_WEIGHTS = np.array([6, 10, 12, 12, 10, 9, 8, 7, 5, 3], dtype=float)
BINS = ["1-3", "4-7", "8-10"]
MEAN_IOU = 0.85
IMAGE_SD = 0.12
THRESHOLD_B = 2.0 * (1.0 - 0.9874)
MIN_GROUP_SIZE = 20
# Per annotator, the rate of reporting a neighbouring tone; the last one's errors go darker.
NOISE = {"moderate": (0.10, 0.20, 0.30, 0.40, 0.30),
         "heavy": (0.30, 0.40, 0.50, 0.60, 0.50)}
ANNOTATORS_PER_IMAGE = 3
UNFAIR_SES = 3.0
POLICIES = ("truth", "majority", "unanimous", "resample")
LOW_BIN = "8-10"
# Tones next to another bin: a one-step confusion moves them across. With --hard-edges,
# their images are that much harder to segment too (lighting or occlusion that makes a
# tone hard to judge may make a person hard to segment), so the disputed images are not
# a random sample of their bin.
EDGE_TONES = (3, 4, 7, 8)


def tone_share() -> np.ndarray:
    return TONE_WEIGHTS / TONE_WEIGHTS.sum()


def bin_means(scenario: str) -> dict[str, float]:
    """True mean IoU of each bin; the unfair scenario lowers bin 8-10."""
    means = dict.fromkeys(BINS, MEAN_IOU)
    if scenario == "unfair":
        low_share = float(tone_share()[7:].sum())
        low_n = IMAGES * low_share
        # The low bin's deviation from the overall mean is (1 - share) x the shift; its SE
        # about SD x sqrt(1 / n_low - 1 / n).
        standard_error = IMAGE_SD * math.sqrt(1.0 / low_n - 1.0 / IMAGES)
        means[LOW_BIN] -= (THRESHOLD_B + UNFAIR_SES * standard_error) / (1.0 - low_share)
    return means


def beta_draws(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    common = mean * (1.0 - mean) / IMAGE_SD**2 - 1.0
    return rng.beta(mean * common, (1.0 - mean) * common)


def annotate(rng: np.random.Generator, tones: np.ndarray,
             rates: tuple[float, ...]) -> list[dict[str, int]]:
    """Each image's votes (annotator -> tone 1-10) by three of the five annotators."""
    votes = []
    for tone in tones:
        chosen = rng.choice(len(rates), ANNOTATORS_PER_IMAGE, replace=False)
        image = {}
        for a in chosen:
            value = int(tone)
            if rng.random() < rates[a]:
                step = 1 if a == len(rates) - 1 else int(rng.choice([-1, 1]))
                value = min(10, max(1, value + step))
            image[f"annotator{a}"] = value
        votes.append(image)
    return votes


def attribute_votes(votes: list[dict[str, int]]) -> AttributeVotes:
    images = {}
    for i, image in enumerate(votes):
        counts: dict[str, int] = {}
        for value in image.values():
            counts[str(value)] = counts.get(str(value), 0) + 1
        images[f"i{i}"] = ImageVotes(counts, {a: str(v) for a, v in image.items()})
    return AttributeVotes("skin_tone", tuple(str(v) for v in range(1, 11)), True, images, True)


@dataclass
class Tally:
    """One policy's figures over replicates."""

    bias: dict[str, list[float]] = field(default_factory=dict)
    covered: dict[str, list[bool]] = field(default_factory=dict)
    width: list[float] = field(default_factory=list)
    failed: list[bool] = field(default_factory=list)  # fair scenario: some violation
    passed: list[bool] = field(default_factory=list)  # unfair scenario: no violation
    disputed: list[float] = field(default_factory=list)

    def add_groups(self, means: dict[str, float], groups, value, ci) -> None:
        for name, estimate, (low, high) in zip(groups, value, ci, strict=True):
            if name in means:
                self.bias.setdefault(name, []).append(float(estimate) - means[name])
                self.covered.setdefault(name, []).append(bool(low <= means[name] <= high))
                if name == LOW_BIN:
                    self.width.append(float(high - low))


def judge(groups, n, deviation_ci) -> bool:
    """Whether criterion (b) finds a violation in some gated group."""
    return any(interval_verdict(tuple(ci), THRESHOLD_B) == VIOLATION
               for name, size, ci in zip(groups, n, deviation_ci, strict=True)
               if name != DISPUTED and size >= MIN_GROUP_SIZE)


def evaluate_policy(policy: str, iou: np.ndarray, true_bins: list[str],
                    votes: AttributeVotes, seed: int, resamples: int,
                    method: str = "percentile"):
    """(groups, sizes, estimates, intervals, deviation intervals, share disputed)."""
    if policy == "resample":
        counts = np.array([[votes.images[f"i{i}"].counts.get(b, 0) for b in BINS]
                           for i in range(len(iou))], dtype=float)
        majority = policy_labels(votes, "majority")
        strata = [majority[f"i{i}"] for i in range(len(iou))]
        named = [j for j in range(len(BINS)) if counts[:, j].sum() > 0]
        weights = counts[:, named] / counts[:, named].sum(axis=1, keepdims=True)
        groups = [BINS[j] for j in named]
        result = label_bootstrap(iou, np.ones(len(iou)), weights, strata, groups,
                                 attribute="skin_tone", seed=seed, resamples=resamples,
                                 method=method).figures
        return groups, result.n, result.value, result.ci, result.deviation_ci, 0.0
    if policy == "truth":
        labels = true_bins
    else:
        found = policy_labels(votes, policy)
        labels = [found[f"i{i}"] for i in range(len(iou))]
    names = [b for b in [*BINS, DISPUTED] if b in set(labels)]
    label_array = np.array(labels, dtype=object)
    samples = [make_sample("mean", iou=iou[label_array == name]) for name in names]
    result = stratified_bootstrap(
        samples, [("skin_tone", name) for name in names],
        annotated=[name != DISPUTED for name in names], seed=seed, resamples=resamples,
        method=method)
    disputed = float(np.mean(label_array == DISPUTED))
    return names, result.n, result.value, result.ci, result.deviation_ci, disputed


def edge_share(bin_of) -> dict[str, float]:
    """Each bin's share of images whose true tone is an edge tone."""
    share = tone_share()
    totals = dict.fromkeys(BINS, 0.0)
    edges = dict.fromkeys(BINS, 0.0)
    for tone in range(1, 11):
        totals[bin_of.of(str(tone))] += share[tone - 1]
        if tone in EDGE_TONES:
            edges[bin_of.of(str(tone))] += share[tone - 1]
    return {name: edges[name] / totals[name] for name in BINS}


def replicate(level: str, scenario: str, index: int, seed: int, resamples: int,
              tallies: dict[str, Tally], method: str = "percentile",
              hard_edges: float = 0.0) -> float:
    """One simulated dataset judged under every policy; returns its ordinal alpha (MST)."""
    rng = np.random.default_rng(np.random.SeedSequence(
        [seed, list(NOISE).index(level), int(scenario == "unfair"), index]))
    tones = rng.choice(np.arange(1, 11), IMAGES, p=tone_share())
    bin_of = parse_bins(BINS, standard_vocabularies()["mst"], "bins")
    true_bins = [bin_of.of(str(t)) for t in tones]
    means = bin_means(scenario)
    penalty = np.where(np.isin(tones, EDGE_TONES), hard_edges, 0.0)
    iou = beta_draws(rng, np.array([means[b] for b in true_bins]) - penalty)
    # The true bin means: every image of the bin, its edge tones' penalty included.
    shares = edge_share(bin_of)
    means = {name: means[name] - hard_edges * shares[name] for name in BINS}
    raw = attribute_votes(annotate(rng, tones, NOISE[level]))
    votes = binned(raw, bin_of)
    for policy in POLICIES:
        groups, n, value, ci, deviation_ci, disputed = evaluate_policy(
            policy, iou, true_bins, votes, index, resamples, method)
        tally = tallies[policy]
        violated = judge(groups, n, deviation_ci)
        if scenario == "fair":
            tally.failed.append(violated)
        else:
            tally.passed.append(not violated)
            tally.add_groups(means, groups, value, ci)
            tally.disputed.append(disputed)
    counts = np.array([[raw.images[f"i{i}"].counts.get(str(v), 0) for v in range(1, 11)]
                       for i in range(IMAGES)])
    return krippendorff_alpha(counts, "ordinal") or float("nan")


def share(flags: list[bool]) -> str:
    if not flags:
        return "-"
    p = float(np.mean(flags))
    return f"{100 * p:5.1f} % +/- {100 * math.sqrt(p * (1 - p) / len(flags)):3.1f}"


def points(values: list[float]) -> str:
    mean = float(np.mean(values))
    se = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0
    return f"{100 * mean:+6.2f} +/- {100 * se:4.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=300, help="datasets per scenario")
    parser.add_argument("--bootstrap", type=int, default=2000, help="resamples per dataset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="50 datasets, 400 resamples")
    parser.add_argument("--method", choices=("percentile", "bca"), default="percentile",
                        help="interval method of every policy (run's default is bca)")
    parser.add_argument("--hard-edges", type=float, default=0.0, metavar="PT",
                        help="images of edge tones (3, 4, 7, 8) this many points harder")
    args = parser.parse_args(argv)
    if args.quick:
        args.replicates, args.bootstrap = 50, 400
    started = time.perf_counter()
    unfair = bin_means("unfair")
    print(f"# label noise: {args.replicates} datasets per scenario and noise level of "
          f"{IMAGES} images, {ANNOTATORS_PER_IMAGE} of {len(NOISE['heavy'])} annotators each "
          f"(the last one's errors darker), {args.bootstrap} resamples, {args.method} "
          f"intervals, seed {args.seed}; edge tones {args.hard_edges:g} pt harder")
    print(f"# bins {', '.join(BINS)}; unfair: bin {LOW_BIN} mean {unfair[LOW_BIN]:.4f} vs "
          f"{MEAN_IOU}; criterion (b) threshold {100 * THRESHOLD_B:.2f} pt at 95 % per group")
    for level, rates in NOISE.items():
        tallies = {policy: Tally() for policy in POLICIES}
        alphas = [replicate(level, scenario, index, args.seed, args.bootstrap, tallies,
                            args.method, args.hard_edges / 100.0)
                  for scenario in ("fair", "unfair") for index in range(args.replicates)]
        print(f"## {level} noise: neighbour-tone rates {', '.join(f'{r:.2f}' for r in rates)}; "
              f"MST ordinal alpha {np.nanmean(alphas):.3f}")
        print_table(tallies)
    print(f"# {time.perf_counter() - started:.0f} s")
    return 0


def print_table(tallies: dict[str, Tally]) -> None:
    print(f"{'policy':<10} {'bias 8-10 (pt)':>16} {'worst bias (pt)':>16} "
          f"{'cover 8-10':>18} {'worst cover':>18} {'width 8-10':>10} "
          f"{'disputed':>8} {'fair fails':>18} {'unfair passes':>18}")
    for policy, tally in tallies.items():
        worst_bias = max(tally.bias, key=lambda name: abs(np.mean(tally.bias[name])))
        worst_cover = min(tally.covered, key=lambda name: np.mean(tally.covered[name]))
        print(f"{policy:<10} {points(tally.bias[LOW_BIN]):>16} "
              f"{points(tally.bias[worst_bias]):>16} {share(tally.covered[LOW_BIN]):>18} "
              f"{share(tally.covered[worst_cover]):>18} "
              f"{100 * np.mean(tally.width):>8.2f}pt {100 * np.mean(tally.disputed):>7.1f}% "
              f"{share(tally.failed):>18} {share(tally.passed):>18}")


if __name__ == "__main__":
    raise SystemExit(main())
