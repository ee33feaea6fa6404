"""The loss network, Gram matrices, perceptual losses and the Gatys optimisation baseline."""

import numpy as np
import pytest

from infoae.config import LOSS_NETWORK_LAYERS, Config, load_config
from infoae.data import load_data, load_mnist_sample, to_float
from infoae.errors import ConfigError, ImageError, RunDirError
from infoae.model.loss_network import (load_loss_network, loss_network_for, loss_network_settings,
                                       save_loss_network)
from infoae.model.perceptual import (build_loss_network, feature_extractor, gram_matrix,
                                     normalise_activations, style_loss, total_variation)
from infoae.transfer.gatys import gatys_transfer
from infoae.transfer.images import load_image_file, select_images


def test_gram_matrix_of_a_known_case():
    # Two positions, two channels: F = [[1, 2], [3, 4]]; G = F^T F / (H W C) = [[10, 14],
    # [14, 20]] / 4.
    features = np.array([[[[1.0, 2.0]], [[3.0, 4.0]]]], np.float32)  # (1, 2, 1, 2)
    np.testing.assert_allclose(gram_matrix(features)[0], [[2.5, 3.5], [3.5, 5.0]], rtol=1e-6)


def test_gram_matrix_is_size_and_position_invariant():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)
    tiled = np.tile(features, (1, 2, 3, 1))  # The same texture on a 6x larger map.
    np.testing.assert_allclose(gram_matrix(tiled), gram_matrix(features), rtol=1e-5, atol=1e-6)
    shifted = np.roll(features, (1, 2), axis=(1, 2))  # Same values, other positions.
    np.testing.assert_allclose(gram_matrix(shifted), gram_matrix(features), rtol=1e-5, atol=1e-6)
    gram = np.asarray(gram_matrix(features))
    np.testing.assert_allclose(gram, gram.transpose(0, 2, 1), rtol=1e-6)
    assert np.linalg.eigvalsh(gram).min() > -1e-5  # Positive semi-definite.


def test_style_loss_weights_layers_and_is_zero_on_the_target():
    rng = np.random.default_rng(1)
    a = [rng.normal(size=(2, 4, 4, 3)).astype(np.float32) for _ in range(2)]
    b = [rng.normal(size=(2, 4, 4, 3)).astype(np.float32) for _ in range(2)]
    targets = [gram_matrix(x) for x in a]
    np.testing.assert_allclose(style_loss(a, targets, [1.0, 1.0]), 0.0, atol=1e-10)
    one = np.asarray(style_loss(b, targets, [1.0, 0.0]))
    two = np.asarray(style_loss(b, targets, [0.0, 1.0]))
    assert one.shape == (2,) and np.all(one > 0) and np.all(two > 0)
    np.testing.assert_allclose(style_loss(b, targets, [2.0, 3.0]), 2 * one + 3 * two, rtol=1e-5)


def test_total_variation():
    flat = np.full((1, 5, 5, 1), 0.3, np.float32)
    stripes = np.zeros((1, 4, 4, 1), np.float32)
    stripes[:, :, ::2] = 1.0  # Every horizontal neighbour differs by 1, vertical ones by 0.
    assert float(total_variation(flat)[0]) == 0.0
    assert float(total_variation(stripes)[0]) == pytest.approx(1.0)


def test_loss_network_layers_by_name():
    network = build_loss_network((28, 28, 1))
    extractor = feature_extractor(network, ["block1_conv1", "block2_conv2", "block3_conv1"])
    outputs = extractor(np.zeros((2, 28, 28, 1), np.float32))
    assert [tuple(o.shape) for o in outputs] == [(2, 28, 28, 32), (2, 14, 14, 64), (2, 7, 7, 128)]
    assert not extractor.trainable_weights  # Frozen.
    assert all(network.get_layer(name) for name in LOSS_NETWORK_LAYERS)
    with pytest.raises(ValueError, match="block1_conv1"):
        feature_extractor(network, ["conv9"])


def test_normalisation_keeps_the_classifier_and_evens_the_layers():
    import keras

    keras.utils.set_random_seed(0)
    network = build_loss_network((28, 28, 1))
    images = to_float(load_mnist_sample()[0][0][:200])
    before = np.asarray(network(images))
    normalise_activations(network, images)
    np.testing.assert_allclose(np.asarray(network(images)), before, rtol=1e-3, atol=1e-4)
    outputs = feature_extractor(network, LOSS_NETWORK_LAYERS)(images)
    np.testing.assert_allclose([float(np.mean(o)) for o in outputs], 1.0, rtol=1e-3)


@pytest.fixture(scope="module")
def sample():
    return load_data(load_config(None, ["data.name=mnist_sample", "data.validation_size=500"]).data)


def loss_network_settings_of_the_fixture():
    settings = Config().perceptual
    settings.epochs = 3  # As the perceptual-loss run of test_transfer_end_to_end, which loads it.
    return settings


@pytest.fixture(scope="module")
def loss_network(sample, tmp_path_factory):
    """Trained, or loaded from the session's evaluation cache, as a perceptual-loss run gets
    it."""
    return loss_network_for(sample, loss_network_settings_of_the_fixture(),
                            tmp_path_factory.mktemp("loss_network"))


def test_loss_network_learns_and_round_trips(loss_network, sample, tmp_path, capsys):
    network, info = loss_network
    assert info["validation_acc"] > 0.8  # Chance is 0.1.
    assert info["train_images"] == 3500 and "mean activations before" in info["normalised"]
    # A second request for this data and these settings loads the cached network into its
    # directory instead of training one.
    again, again_info = loss_network_for(sample, loss_network_settings_of_the_fixture(),
                                         tmp_path / "again")
    assert again_info["cache"] == "loaded" and again_info["cache_key"] == info["cache_key"]
    assert "loaded from the evaluation cache" in capsys.readouterr().out
    assert (tmp_path / "again" / "loss_network.weights.h5").is_file()
    images = to_float(sample.test[0][:8])
    np.testing.assert_allclose(np.asarray(again(images)), np.asarray(network(images)), atol=1e-5)
    # Another seed is another entry: its network is not served this one.
    other = loss_network_settings_of_the_fixture()
    other.seed = 1
    assert (loss_network_settings(sample, other) != loss_network_settings(
        sample, loss_network_settings_of_the_fixture()))
    save_loss_network(network, info, tmp_path / "net")
    loaded, loaded_info = load_loss_network(tmp_path / "net", (28, 28, 1))
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(network(images)), atol=1e-5)
    assert loaded_info == info
    with pytest.raises(RunDirError, match="32, 32, 3"):
        load_loss_network(tmp_path / "net", (32, 32, 3))
    with pytest.raises(RunDirError, match="holds no loss network"):
        load_loss_network(tmp_path / "elsewhere", (28, 28, 1))


@pytest.mark.slow
def test_loss_network_learns_colour_digits_and_refuses_an_uncentred_one(tmp_path):
    """On SynDigits' colour backgrounds the network centres each image's colours first;
    uncentred it stayed at chance there. A colour loss network saved without the centring is
    refused on loading, not used with inputs it was not trained on."""
    # The data of test_end_to_end's SynDigits run, so the session's evaluation cache serves
    # the network that run trained (or this test trains it for the runs after).
    data = load_data(load_config(None, ["data.name=syndigits", "data.syndigits_train_size=4000",
                                        "data.syndigits_test_size=500",
                                        "data.validation_size=500"]).data)
    network, info = loss_network_for(data, Config().perceptual, tmp_path / "new")
    assert info["validation_acc"] > 0.5, info  # Chance is 0.1.
    images = to_float(data.test[0][:4])
    shifted = images + np.array([0.0, 0.1, -0.1], np.float32)  # One colour cast on the image.
    np.testing.assert_allclose(np.asarray(network(shifted)), np.asarray(network(images)),
                               atol=1e-4)
    save_loss_network(network, {**info, "input": "as it is"}, tmp_path / "old")
    with pytest.raises(RunDirError, match="uncentred colour images"):
        load_loss_network(tmp_path / "old", data.image_shape)


@pytest.mark.parametrize("optimizer,init", [("lbfgs", "content"), ("adam", "content"),
                                            ("lbfgs", "noise")])
def test_short_gatys_optimisation_lowers_its_loss(loss_network, sample, optimizer, init):
    network, _ = loss_network
    settings = Config()
    settings.transfer.optimizer, settings.transfer.init = optimizer, init
    settings.transfer.steps = 30
    settings.transfer.tv_weight = 1.0
    images, labels = to_float(sample.test[0]), sample.test[1]
    # Pairs of different digits: contents are a 0, 1, 2, 3; styles a 5, 6, 7, 8.
    contents = images[[np.flatnonzero(labels == d)[0] for d in range(4)]]
    styles = images[[np.flatnonzero(labels == d)[0] for d in range(5, 9)]]
    result, report = gatys_transfer(network, contents, styles, settings.perceptual,
                                    settings.transfer)
    assert result.shape == contents.shape and result.min() >= 0.0 and result.max() <= 1.0
    assert report["iterations"] >= 10 and report["n_images"] == 4
    assert report["end"]["loss"] < 0.5 * report["start"]["loss"]
    assert report["end"]["style"] < report["start"]["style"]
    if init == "content":
        assert report["start"]["content"] == pytest.approx(0.0, abs=1e-6)


def test_image_arguments(tmp_path):
    from PIL import Image

    test_images = (np.arange(5 * 28 * 28) % 256).astype(np.uint8).reshape(5, 28, 28, 1)
    assert select_images("3", test_images, (28, 28, 1)).shape == (1, 28, 28, 1)
    assert select_images("1:4", test_images, (28, 28, 1)).shape == (3, 28, 28, 1)
    np.testing.assert_allclose(select_images("2", test_images, (28, 28, 1))[0],
                               test_images[2] / 255.0)
    for bad in ("7", "5:9"):
        with pytest.raises(ImageError, match="test split"):
            select_images(bad, test_images, (28, 28, 1))
    Image.fromarray(np.full((28, 28, 3), 255, np.uint8)).save(tmp_path / "white.png")
    image = load_image_file(tmp_path / "white.png", (28, 28, 1))
    assert image.shape == (28, 28, 1) and image.min() == 1.0  # Converted to grey.
    # A picture of another size is a photo, prepared as swap --style prepares it: a blank one
    # shows no digit; a .npy array must have the dataset's shape.
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(ImageError, match="shows no digit"):
        load_image_file(tmp_path / "small.png", (28, 28, 1))
    np.save(tmp_path / "small.npy", np.zeros((20, 20)))
    with pytest.raises(ImageError, match="28x28"):
        load_image_file(tmp_path / "small.npy", (28, 28, 1))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ImageError, match="cannot read"):
        load_image_file(tmp_path / "broken.png", (28, 28, 1))
    np.save(tmp_path / "big.npy", np.full((28, 28), 3.0))
    with pytest.raises(ImageError, match=r"\[0, 1\]"):
        load_image_file(tmp_path / "big.npy", (28, 28, 1))
    with pytest.raises(ImageError, match="neither"):
        select_images(str(tmp_path / "missing.png"), test_images, (28, 28, 1))


def test_perceptual_config_is_checked():
    config = load_config(None, ['perceptual.style_layers=["block1_conv2", "block3_conv2"]',
                                "perceptual.style_layer_weights=[1, 0.5]"])
    assert config.perceptual.style_layer_weights == [1.0, 0.5]
    with pytest.raises(ConfigError, match="perceptual.style_layers"):
        load_config(None, ['perceptual.style_layers=["conv9"]'])
    with pytest.raises(ConfigError, match="one per entry"):
        load_config(None, ["perceptual.style_layer_weights=[1.0]"])
    with pytest.raises(ConfigError, match="list of strings"):
        load_config(None, ["perceptual.style_layers=[1, 2]"])
    with pytest.raises(ConfigError, match="transfer.optimizer"):
        load_config(None, ["transfer.optimizer=sgd"])
    with pytest.raises(ConfigError, match="loss.swap_style"):
        load_config(None, ["loss.swap_style=-1"])
