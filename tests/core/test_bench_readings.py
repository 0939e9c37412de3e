"""Readings the benchmark tables print: the bootstrap interval of an MAE (benchmarks/bench_jnd.py) and how far a
proxy label moves with its JOD threshold (benchmarks/label_sensitivity.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_jnd import fmt_interval, mean_interval
from benchmarks.label_sensitivity import label_moves


def test_interval_brackets_the_mean_and_narrows_with_more_images() -> None:
    rng = np.random.default_rng(3)
    few = rng.exponential(3.0, 24)
    many = rng.exponential(3.0, 960)
    low, high = mean_interval(few)
    assert low < few.mean() < high
    wide = high - low
    low_many, high_many = mean_interval(many)
    assert low_many < many.mean() < high_many
    # the width of a mean's interval falls as 1/sqrt(n): 40x the images, about a sixth of the width
    assert (high_many - low_many) < wide / 4


def test_interval_is_reproducible_and_degenerate_cases() -> None:
    values = [0, 1, 5, 2, 8, 0, 3]
    assert mean_interval(values) == mean_interval(values)
    assert mean_interval([4.0] * 10) == (4.0, 4.0)
    assert all(np.isnan(mean_interval([2.0])))
    assert fmt_interval([4.0] * 10) == "[ 4.0, 4.0]"


def test_interval_of_a_skewed_sample_is_asymmetric() -> None:
    values = [0.0] * 20 + [12.0] * 4  # most images exact, a few far off: the interval reaches further up
    low, high = mean_interval(values)
    mean = float(np.mean(values))
    assert high - mean > mean - low
    assert low == pytest.approx(0.5, abs=0.6)


def test_a_flat_curve_moves_its_label_further_than_a_steep_one() -> None:
    levels = [float(q) for q in range(1, 101, 2)]
    steep = [min(10.0, 8.0 + 0.1 * (q - 1) / 2) for q in levels]  # 0.05 JOD a level
    flat = [min(10.0, 9.4 + 0.01 * (q - 1) / 2) for q in levels]  # 0.005 JOD a level
    label, down, up = label_moves(levels, steep, 8.975, 0.05, "higher")  # thresholds between the curves' values
    assert label == 21.0 and down + up == 2.0  # one grid step of 2 levels, one way
    label, down, up = label_moves(levels, flat, 9.675, 0.05, "higher")
    assert label == 57.0 and down == 10.0 and up == 10.0
    # degradation levels improve downwards: the same curve read the other way round moves its label the same
    _, down_lower, up_lower = label_moves([-q for q in levels], flat, 9.675, 0.05, "lower")
    assert (down_lower, up_lower) == (10.0, 10.0)


SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared (the project's data folder) is absent")
def test_the_validation_labels_are_those_the_trainer_held_out() -> None:
    """``eval_vpjnd.py --validation-of-seed 0`` judges the sources seed 0's run validated on: the model card's 93
    (image, codec) pairs and 372 labels, none of them Kodak; another seed holds out other sources."""
    from benchmarks.eval_vpjnd import validation_labels

    labels = validation_labels(SHARED, 0)
    assert len({(lb.image, lb.codec) for lb in labels}) == 93 and len(labels) == 372
    assert not any(lb.image.startswith("kodak/") for lb in labels)
    other = {lb.image for lb in validation_labels(SHARED, 1)}
    assert other and other != {lb.image for lb in labels}
