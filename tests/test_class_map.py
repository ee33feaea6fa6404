"""Class-conditional normalisation of the style code: invertible, and class-free."""

import numpy as np
import pytest

from infoae.evaluation.metrics import probe_accuracy
from infoae.model.class_map import ClassMap, save_class_maps


def _codes(count, seed):
    """Codes whose class shows in the mean, the spread and the shape of its distribution."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    codes = rng.standard_normal((count, 5))
    codes[:, 0] = np.abs(codes[:, 0]) * (1 + labels)
    codes[:, 1] += 0.3 * labels * codes[:, 2] ** 2 + labels
    codes[:, 3] = 0.0  # A pruned dimension: constant, left as it is.
    return codes, labels


@pytest.mark.parametrize("kind", ["gaussian", "moments"])
def test_class_maps_are_invertible_and_keep_constant_dimensions(kind):
    codes, labels = _codes(8000, 0)
    normaliser = ClassMap.fit(codes, labels, 10, kind)
    test, test_labels = _codes(2000, 1)
    mapped = normaliser.forward(test, test_labels)
    assert np.all(mapped[:, 3] == 0.0)
    # Codes are float32: the map's 100 layers magnify their rounding, to 1e-4 for most codes
    # and about 1e-2 (in codes of spread 1 to 10) for a few in the steepest places.
    back = normaliser.inverse(mapped, test_labels)
    assert np.median(np.abs(back - test)) < 1e-4 and np.abs(back - test).max() < 0.05


@pytest.mark.slow
def test_gaussian_normalisation_hides_the_class_from_probes():
    codes, labels = _codes(20000, 0)
    test, test_labels = _codes(5000, 1)
    normaliser = ClassMap.fit(codes, labels, 10, "gaussian")
    before = probe_accuracy(codes[:10000], labels[:10000], test, test_labels, "mlp")
    mapped = normaliser.forward(codes[:10000], labels[:10000])
    after = probe_accuracy(mapped, labels[:10000], normaliser.forward(test, test_labels),
                           test_labels, "mlp")
    linear = probe_accuracy(mapped, labels[:10000], normaliser.forward(test, test_labels),
                            test_labels, "linear")
    assert before > 0.5 and after < 0.16 and linear < 0.13   # chance is 0.10
    # Every class's codes follow N(0, 1) in each active dimension.
    for label in range(10):
        part = normaliser.forward(test[test_labels == label], test_labels[test_labels == label])
        assert np.all(np.abs(part[:, [0, 1, 2, 4]].mean(0)) < 0.15)
        assert np.all(np.abs(part[:, [0, 1, 2, 4]].std(0) - 1.0) < 0.15)


def test_class_maps_round_trip_through_their_file(tmp_path):
    codes, labels = _codes(3000, 0)
    saved = {"kept": ClassMap.fit(codes, labels, 10, "gaussian"),
             "all": ClassMap.fit(codes, labels, 10, "moments")}
    save_class_maps(saved, tmp_path / "n.npz")
    loaded = ClassMap.load_all(tmp_path / "n.npz")
    assert set(loaded) == {"kept", "all"} and loaded["kept"].kind == "gaussian"
    for name in saved:
        np.testing.assert_array_equal(loaded[name].forward(codes, labels),
                                      saved[name].forward(codes, labels))


def test_too_few_codes_of_a_class_is_refused():
    codes, labels = _codes(300, 0)
    labels[labels == 7] = 6
    with pytest.raises(ValueError, match=r"classes \[7\]"):
        ClassMap.fit(codes, labels, 10, "gaussian")


def test_tied_codes_of_few_images_stay_finite():
    """Few codes per class with ties at the extremes (a nearly constant dimension) once gave
    end slopes near 1e9 and infinite codes after a few layers."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 12)
    codes = rng.normal(size=(120, 4))
    codes[:, 1] = np.round(codes[:, 1] * 1e-3, 6)  # Many ties, a tiny spread.
    codes[:, 2] = np.where(rng.random(120) < 0.5, 0.0, codes[:, 2])  # Half tied at 0.
    normaliser = ClassMap.fit(codes, labels, 10, "gaussian")
    outliers = codes * 50.0
    mapped = normaliser.forward(outliers, labels)
    assert np.all(np.isfinite(mapped)) and np.abs(mapped).max() <= 1000.0 * 2
    inside = normaliser.forward(codes, labels)
    # Inside the codes the map stays invertible, up to float32 rounding through steep maps.
    assert np.median(np.abs(normaliser.inverse(inside, labels) - codes)) < 1e-4


def test_gaussian_map_takes_its_layers_and_knots():
    codes, labels = _codes(4000, 0)
    normaliser = ClassMap.fit(codes, labels, 10, "gaussian", layers=5, knots=9)
    assert normaliser.arrays["knots"].shape == (10, 5, 4, 9)  # 4 active dimensions of 5
    test, test_labels = _codes(1000, 1)
    back = normaliser.inverse(normaliser.forward(test, test_labels), test_labels)
    assert np.median(np.abs(back - test)) < 1e-4
    # Fewer layers bend each class less far from its own codes than the default's 100.
    default = ClassMap.fit(codes, labels, 10, "gaussian")
    assert not np.allclose(default.forward(test, test_labels),
                           normaliser.forward(test, test_labels), atol=1e-2)
    with pytest.raises(ValueError, match="knots"):
        ClassMap.fit(codes, labels, 10, "gaussian", knots=2)


def test_aligned_gaussian_map_puts_one_style_in_one_direction_for_every_class():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 6000)
    style = rng.normal(size=(6000, 3))
    # The same style sits in the code at other scales and offsets in each class.
    codes = style * np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 1.0], [0.5, 0.5, 2.0]])[labels]
    codes += np.array([[0.0, 1.0, 2.0], [2.0, -1.0, 0.0], [-2.0, 0.0, 1.0]])[labels]
    plain = ClassMap.fit(codes, labels, 3, "gaussian", layers=10)
    aligned = ClassMap.fit(codes, labels, 3, "gaussian", layers=10, align=True)
    assert "align" in aligned.arrays and "align" not in plain.arrays
    mapped = aligned.forward(codes, labels)
    assert np.median(np.abs(aligned.inverse(mapped, labels) - codes)) < 1e-4
    for label in range(3):
        rows = labels == label
        # Still N(0, I) within each class: a rotation keeps the common distribution ...
        assert np.allclose(np.cov(mapped[rows].T), np.eye(3), atol=0.1)
        # ... and style factor k is mapped dimension k in every class.
        for k in range(3):
            assert np.corrcoef(style[rows, k], mapped[rows, k])[0, 1] > 0.95
