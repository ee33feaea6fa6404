"""The loss network's life: trained on real images, saved beside a run, loaded again.

Its architecture, normalisation and losses are in ``infoae.model.perceptual``.
"""

from __future__ import annotations

import time
from pathlib import Path

from infoae import atomic
from infoae.cache import array_digest, cached_network
from infoae.config import PerceptualConfig
from infoae.errors import RunDirError
from infoae.model.classifiers import fit_classifier
from infoae.model.perceptual import build_loss_network, centres_colours, normalise_activations
from infoae.rundir import read_json, write_json

LOSS_NETWORK_WEIGHTS = "loss_network.weights.h5"
LOSS_NETWORK_INFO = "loss_network.json"
# A trained loss network reads at least this share of validation digits; below it, a warning.
LEARNED_ACCURACY = 0.5
# What colour images go through first (grey ones go in as they are); see centre_colours.
COLOUR_INPUT = "each image minus its mean per channel"
# Part of the cache key: raise it when the training or the normalisation changes.
LOSS_NETWORK_VERSION = 1


def train_loss_network(data, settings: PerceptualConfig, verbose: int = 0):
    """Train the loss network on real training images; returns (network, info)."""
    import keras

    from infoae.data import to_float

    started = time.time()
    n = settings.train_size or len(data.train[1])
    images, labels = data.train[0][:n], data.train[1][:n]
    network, accuracy = fit_classifier(
        lambda: build_loss_network(data.image_shape, data.num_classes), images, labels,
        settings.epochs, settings.seed, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"], validation=data.validation, verbose=verbose)
    layer_means = normalise_activations(network, to_float(images[:2000]))
    info = {"architecture": "VGG-style: 2x conv3x3 per block (32, 64, 128), average pooling, "
                            "flatten, dense to the classes",
            "dataset": data.name, "image_shape": list(data.image_shape),
            "input": COLOUR_INPUT if centres_colours(data.image_shape) else "as it is",
            "num_classes": int(data.num_classes), "train_images": int(n),
            "epochs": settings.epochs, "seed": settings.seed, "validation_acc": accuracy,
            "normalised": "each layer's mean activation on 2,000 training images set to 1; "
                          "mean activations before, per layer: "
                          + ", ".join(f"{m:.3g}" for m in layer_means),
            "train_seconds": round(time.time() - started, 1)}
    return network, info


def save_loss_network(network, info: dict, directory: str | Path) -> Path:
    """Write the weights and a JSON description into directory (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    atomic.save_weights(network, directory / LOSS_NETWORK_WEIGHTS)
    write_json(directory / LOSS_NETWORK_INFO, info)
    return directory


def load_loss_network(directory: str | Path, image_shape):
    """A loss network saved by save_loss_network (weights only, no code); (network, info)."""
    directory = Path(directory)
    weights, info_file = directory / LOSS_NETWORK_WEIGHTS, directory / LOSS_NETWORK_INFO
    if not weights.is_file() or not info_file.is_file():
        raise RunDirError(f"'{directory}' holds no loss network ({LOSS_NETWORK_WEIGHTS} and "
                          f"{LOSS_NETWORK_INFO}); `infoae transfer --method gatys --loss-network "
                          f"{directory}` trains one there.")
    info = read_json(info_file)
    if tuple(info.get("image_shape", ())) != tuple(image_shape):
        raise RunDirError(f"the loss network in '{directory}' is for images of shape "
                          f"{tuple(info.get('image_shape', ()))}, not {tuple(image_shape)}; "
                          "train one on this dataset.")
    if centres_colours(image_shape) and info.get("input") != COLOUR_INPUT:
        raise RunDirError(f"the loss network in '{directory}' was trained on uncentred colour "
                          "images, which this version centres first; delete it to train one "
                          "again.")
    network = build_loss_network(image_shape, int(info.get("num_classes", 10)))
    try:
        network.load_weights(weights)
    except Exception as error:  # h5py and Keras raise several types for bad files.
        raise RunDirError(f"cannot load loss network weights '{weights}': {error}") from None
    return network, info


def loss_network_settings(data, settings: PerceptualConfig) -> dict:
    """Everything a trained loss network depends on: the key of its evaluation-cache entry."""
    n = settings.train_size or len(data.train[1])
    return {"version": LOSS_NETWORK_VERSION, "dataset": data.name,
            "image_shape": list(data.image_shape), "num_classes": int(data.num_classes),
            "input": COLOUR_INPUT if centres_colours(data.image_shape) else "as it is",
            "epochs": settings.epochs, "seed": settings.seed, "train_images": int(n),
            "train": array_digest(data.train[0][:n], data.train[1][:n]),
            "validation": array_digest(*data.validation)}


def loss_network_for(data, settings: PerceptualConfig, directory: str | Path, verbose: int = 0):
    """The loss network saved in directory; else the one the evaluation cache holds for this
    data and these settings (``infoae.cache``, kind "loss_networks"), or a new one
    trained and stored there; either is saved in directory."""
    directory = Path(directory)
    if (directory / LOSS_NETWORK_WEIGHTS).is_file():
        return load_loss_network(directory, data.image_shape)
    key_settings = loss_network_settings(data, settings)

    def train():
        print(f"Training the loss network on {data.name} ({settings.epochs} epochs); "
              f"it is saved in {directory}.")
        return train_loss_network(data, settings, verbose)

    network, info, how, key = cached_network(
        "loss_networks", key_settings,
        lambda: build_loss_network(data.image_shape, data.num_classes), train)
    info = {**info, "cache": how, "cache_key": key}
    save_loss_network(network, info, directory)
    if how == "loaded":
        print(f"Loss network for {data.name} loaded from the evaluation cache (key {key}, "
              f"validation accuracy {info['validation_acc']:.4f}); saved in {directory}.")
    else:
        print(f"Loss network: validation accuracy {info['validation_acc']:.4f} "
              f"({info['train_seconds']:.0f} s).")
    if info["validation_acc"] < LEARNED_ACCURACY:
        print(f"Warning: the loss network reads only {info['validation_acc']:.1%} of validation "
              "digits, so its features barely describe digits; raise perceptual.epochs or "
              "perceptual.train_size, or delete it to train again.")
    return network, info
