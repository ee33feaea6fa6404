"""Property-based tests (hypothesis) over the config parser and the image inputs of the API.

The property in every case: a bad input raises the package's own error (an InfoaeError, which
the CLI prints as one line) and never anything else; a good input is accepted unchanged.
"""

import math
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from infoae.config import Config, ConfigError, from_dict, load_config, save_config
from infoae.errors import ImageError, InfoaeError
from infoae.evaluation.metrics import spread_sample
from infoae.model.trained import Run

SECTIONS = {name: vars(section) for name, section in vars(Config()).items()}
toml_scalars = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                         st.floats(allow_nan=True, allow_infinity=True),
                         st.lists(st.integers(-5, 300), max_size=4))
known_keys = st.sampled_from([(s, k) for s, keys in SECTIONS.items() for k in keys])
any_keys = st.tuples(st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(known_keys, any_keys), toml_scalars), max_size=4))
def test_any_config_mapping_is_accepted_or_refused_with_a_config_error(items):
    raw = {}
    for (section, key), value in items:
        raw.setdefault(section, {})[key] = value
    try:
        config = from_dict(raw).validate()
    except ConfigError as error:
        assert str(error)
        return
    # Accepted: every value has its default's type and every float is finite.
    for section, keys in SECTIONS.items():
        for key, default in keys.items():
            value = getattr(getattr(config, section), key)
            assert type(value) is type(default)
            if isinstance(value, float):
                assert math.isfinite(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_override_text_is_accepted_or_refused_with_a_config_error(text):
    try:
        load_config(overrides=[text])
    except ConfigError as error:
        assert str(error)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(epochs=st.integers(1, 10**4), kl=st.floats(0.0, 1e3), dim=st.integers(1, 512),
       name=st.sampled_from(["mnist", "svhn", "mnist_sample"]), variational=st.booleans())
def test_valid_configs_survive_a_save_and_load(tmp_path, epochs, kl, dim, name, variational):
    config = load_config(overrides=[f"train.epochs={epochs}", f"loss.kl={kl!r}",
                                    f"model.style_dim={dim}", f"data.name={name}",
                                    f"model.variational={str(variational).lower()}"])
    save_config(config, tmp_path / "config.toml")
    assert load_config(tmp_path / "config.toml") == config


def _run(shape=(28, 28, 1), style_dim=16) -> Run:
    """A Run whose model is never called: only the input checks are under test."""
    config = load_config(overrides=[f"model.style_dim={style_dim}"])
    return Run("unused", types.SimpleNamespace(image_shape=shape, num_classes=10), config)


images = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64, np.float16, np.uint8, np.int32, np.bool_]),
    shape=hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=30))


@settings(max_examples=300, deadline=None)
@given(images)
def test_any_array_is_a_valid_image_batch_or_an_image_error(array):
    run = _run()
    try:
        checked = run.check_images(array)
    except ImageError as error:
        assert "images must" in str(error)
        return
    assert checked.dtype == np.float32 and checked.shape[1:] == (28, 28, 1)
    assert np.all(np.isfinite(checked)) and checked.min() >= 0.0 and checked.max() <= 1.0


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.just((3, 28, 28, 1)),
                  elements=st.floats(allow_nan=True, allow_infinity=True, width=32)))
def test_float_images_outside_the_unit_range_are_refused(array):
    run = _run()
    ok = np.all(np.isfinite(array)) and array.min() >= 0.0 and array.max() <= 1.0
    if ok:
        assert run.check_images(array).shape == (3, 28, 28, 1)
    else:
        with pytest.raises(ImageError, match=r"\[0, 1\]"):
            run.check_images(array)


@settings(max_examples=200, deadline=None)
@given(codes=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=20)),
       labels=hnp.arrays(st.sampled_from([np.int64, np.float64, np.int8]),
                         hnp.array_shapes(min_dims=0, max_dims=2, max_side=20)))
def test_generate_refuses_bad_codes_and_labels_before_touching_the_model(codes, labels):
    run = _run(style_dim=4)
    good_codes = codes.ndim == 2 and codes.shape[1] == 4 and np.all(np.isfinite(codes))
    flat = labels.reshape(-1)
    good_labels = (labels.ndim <= 1 and len(flat) == len(codes) and np.all(np.isfinite(flat))
                   and np.all(flat == np.round(flat)) and np.all((flat >= 0) & (flat <= 9)))
    if good_codes and good_labels:
        return  # Valid input reaches the model, which this stand-in does not have.
    with pytest.raises(InfoaeError):
        run.generate(codes, labels)


def test_labels_of_two_dimensions_complex_codes_and_no_images_are_refused():
    run = _run(style_dim=4)
    with pytest.raises(ImageError, match=r"flat list of 4 integers.*\(2, 2\)"):
        run.generate(np.zeros((4, 4)), np.zeros((2, 2), np.int64))
    with pytest.raises(ImageError, match="real numbers, got dtype complex"):
        run.generate(np.zeros((2, 4)) + 1j, [1, 2])
    with pytest.raises(ImageError, match=r"\(11 is not one\)"):
        run.generate(np.zeros((2, 4)), [1, 11])
    with pytest.raises(ImageError, match="at least one image"):
        run.check_images(np.zeros((0, 28, 28, 1), np.float32))


@settings(max_examples=200, deadline=None)
@given(count=st.integers(1, 5000), n=st.integers(1, 6000), seed=st.integers(0, 2**31))
def test_a_test_sample_is_n_distinct_indices_in_order_or_the_whole_split(count, n, seed):
    chosen = spread_sample(count, n, seed)
    assert len(chosen) == min(count, n) and np.all(np.diff(chosen) > 0)
    assert chosen.min() >= 0 and chosen.max() < count
    assert np.array_equal(chosen, spread_sample(count, n, seed))


def test_a_test_sample_is_drawn_over_the_whole_split_not_its_start():
    # MNIST's test split is not shuffled: its two halves come from different writers.
    chosen = spread_sample(10000, 2000, seed=0)
    assert 900 < np.sum(chosen >= 5000) < 1100
    assert not np.array_equal(chosen, spread_sample(10000, 2000, seed=1))
