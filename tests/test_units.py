"""The units beside every leakage figure: the floor (the commonest class's share of the scored
split) and a lower bound on I(code; class) in bits from the probe panel's cross-entropy; and
the validation split an evaluation can score instead of the test split."""

import numpy as np
import pytest

from infoae.data import DigitData, scored_split
from infoae.errors import ConfigError
from infoae.evaluation import metrics


def test_floor_is_the_commonest_class_share():
    labels = np.array([1] * 1135 + [0] * 980 + [7] * 1028)
    assert metrics.majority_floor(labels) == pytest.approx(1135 / len(labels))
    assert metrics.label_entropy_bits(np.arange(10).repeat(7)) == pytest.approx(np.log2(10))
    assert metrics.label_entropy_bits([3, 3, 3]) == 0.0


def test_cross_entropy_and_calibration_of_known_probabilities():
    labels = np.array([0, 1, 2, 3] * 25)
    perfect = np.eye(4)[labels]
    scores = metrics.calibration(perfect, np.arange(4), labels)
    assert scores["ce_bits"] == pytest.approx(0.0) and scores["ece"] == pytest.approx(0.0)
    uniform = np.full((100, 4), 0.25)
    scores = metrics.calibration(uniform, np.arange(4), labels)
    assert scores["ce_bits"] == pytest.approx(2.0) and scores["ece"] == pytest.approx(0.0)
    # Always sure and always wrong: each code costs the floor's bits, and calibration is off by 1.
    wrong = np.eye(4)[(labels + 1) % 4]
    scores = metrics.calibration(wrong, np.arange(4), labels)
    assert scores["ce_bits"] == pytest.approx(-np.log2(metrics.PROBABILITY_FLOOR))
    assert scores["ece"] == pytest.approx(1.0)
    # A label the probe never saw in training has probability 0 (the floor), not an error.
    scores = metrics.calibration(uniform[:, :3] / 0.75, np.arange(3), labels)
    assert scores["ce_bits"] > 2.0


def test_bits_bound_separates_an_informative_code_from_noise():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 1200)
    informative = np.eye(10)[labels] + 0.3 * rng.normal(size=(1200, 10))
    noise = rng.normal(size=(1200, 4))
    panel = {name: (codes[:800], labels[:800], codes[800:], labels[800:])
             for name, codes in {"informative": informative, "noise": noise}.items()}
    scores = metrics.probe_panels(panel, ["mlp", "boost"], scores=True)
    bits = {name: metrics.information_bits(s, labels[800:]) for name, s in scores.items()}
    h_y = metrics.label_entropy_bits(labels[800:])
    assert bits["informative"]["bits"] > 0.8 * h_y
    assert bits["noise"]["bits"] < 0.2
    assert bits["noise"]["h_y_bits"] == pytest.approx(h_y)
    # The accuracies are what the plain panel reports.
    assert [s["acc"] for s in scores["noise"]] == metrics.probe_panels(
        {"noise": panel["noise"]}, ["mlp", "boost"])["noise"]


def _data(validation: int) -> DigitData:
    images = np.zeros((10, 28, 28, 1), np.uint8)
    labels = np.arange(10)
    return DigitData("x", "test data", (images, labels), (images[:validation], labels[:validation]),
                     (images[:3], labels[:3]), factor_names=("a",),
                     factors={"train": np.zeros((10, 1)), "validation": np.ones((validation, 1)),
                              "test": np.zeros((3, 1))})


def test_the_validation_split_takes_the_test_position():
    data = _data(5)
    scored = scored_split(data, "validation")
    assert len(scored.test[1]) == 5 and scored.train is data.train
    assert scored.factors["test"].mean() == 1.0 and data.factors["test"].mean() == 0.0
    assert scored_split(data, "test") is data
    with pytest.raises(ConfigError, match="no validation split"):
        scored_split(_data(0), "validation")
