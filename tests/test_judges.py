"""The judge ensemble and its cache."""

import numpy as np
import pytest

from infoae.config import DataConfig
from infoae.data import load_data, to_float
from infoae.evaluation.judge import (JUDGES, build_judge, judge_cache, judge_features,
                                     judge_labels, judge_reader, read_with_features)
from infoae.model.classifiers import predict


@pytest.mark.slow
def test_judges_learn_and_are_cached_by_data(tmp_path, monkeypatch):
    monkeypatch.setenv("INFOAE_CACHE", str(tmp_path))
    data = load_data(DataConfig(name="mnist_sample", validation_size=500))
    images, labels = to_float(data.test[0]), data.test[1]
    for kind in JUDGES:
        judge, info = judge_cache(data, 2, 0, kind)
        assert info["cache"] == "trained" and info["validation_acc"] > 0.8
        assert np.mean(judge_labels(judge, images) == labels) > 0.8
        again, info_again = judge_cache(data, 2, 0, kind)
        assert info_again["cache"] == "loaded" and info_again["cache_key"] == info["cache_key"]
        np.testing.assert_array_equal(judge_labels(again, images), judge_labels(judge, images))
    # Other data (fewer training images) is another key; a damaged entry is trained again.
    data.train = (data.train[0][:1000], data.train[1][:1000])
    _, info_other = judge_cache(data, 2, 0, "plain")
    assert info_other["cache"] == "trained" and info_other["cache_key"] != info["cache_key"]
    (tmp_path / "judges" / f"{info_other['cache_key']}.weights.h5").write_bytes(b"damaged")
    assert judge_cache(data, 2, 0, "plain")[1]["cache"] == "trained"


def test_real_image_factors_are_cached_by_their_images(tmp_path, monkeypatch):
    from infoae.evaluation.factors import FactorSource
    from infoae.evaluation.morphometrics import measure

    monkeypatch.setenv("INFOAE_CACHE", str(tmp_path))
    data = load_data(DataConfig(name="mnist_sample", validation_size=500))
    source = FactorSource(data)
    first = source.real("test", 60)
    cached = FactorSource(data)
    again = cached.real("test", 60)
    assert list(source.cache_log.values()) == ["computed"]
    assert list(cached.cache_log.values()) == ["loaded"]
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, measure(data.test[0][:60]))
    other = FactorSource(data)
    other.real("test", 40)  # Other images: another entry, measured.
    assert list(other.cache_log.values()) == ["computed"]
    entries = sorted((tmp_path / "morphometrics").glob("*.npy"))
    assert len(entries) == 2
    for entry in entries:
        entry.write_bytes(b"damaged")  # A damaged entry is measured again.
    np.testing.assert_array_equal(FactorSource(data).real("test", 60), first)


def test_one_pass_of_the_plain_judge_reads_its_classes_and_its_features():
    """The evaluation reads the plain judge's classes and FDD features in one pass: the same
    classes and features as the two passes it replaces."""
    import keras

    keras.utils.set_random_seed(0)
    judge = build_judge((28, 28, 1))
    images = np.random.default_rng(0).random((1500, 28, 28, 1)).astype(np.float32)
    classes, features = read_with_features(judge_reader(judge), images)
    np.testing.assert_array_equal(classes, judge_labels(judge, images))
    np.testing.assert_array_equal(features, predict(judge_features(judge), images))
    assert features.shape == (1500, 128)
