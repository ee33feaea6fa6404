"""The judges: independent classifiers, trained on real training images only, that read the
class of generated images (swap accuracy); the first also gives the features of the Frechet
digit distance.

Two architecture families, neither the content head's (two plain stride-2 stages, dense 256):
- "plain": four 3x3 convolutions (32, 32, 64, 64) with max pooling, dense 128, dropout;
- "batchnorm": three stages of 3x3 convolution, batch normalisation and ReLU (32, 64, 128)
  with max pooling, a batch-normalised dense 128, trained on images shifted by up to 10% of
  their size (translation augmentation).
A swap counts as right for the ensemble's score only in the strictest judge's reading:
swap_acc is the lowest of the judges' swap accuracies. The "plain" network with a linear output
also regresses factors (``infoae.evaluation.factors``).

Judges depend on the data alone, so they are cached (``judge_cache``, in the evaluation cache
of ``infoae.cache``), keyed by the data's fingerprint, the architecture, epochs and
seed.
"""

from __future__ import annotations

import hashlib

import numpy as np

from infoae.data import DigitData
from infoae.cache import cached_network
from infoae.model.classifiers import fit_classifier, predict

JUDGES = {"plain": "4 conv (32,32,64,64) + max pooling + dense 128, dropout 0.3",
          "batchnorm": "3 conv-BN-ReLU stages (32,64,128) + max pooling + dense-BN 128, "
                       "translation augmentation (10%)"}
ARCHITECTURE = JUDGES["plain"] + ", trained on real train images"
# Raised whenever a judge's architecture or training changes, so cached judges are retrained.
JUDGE_VERSION = 1


def build_judge(image_shape, outputs: int = 10, activation: str | None = "softmax",
                dropout: float = 0.3, name: str = "judge"):
    """The "plain" judge of `outputs` classes; with activation=None and no dropout the same
    network regresses `outputs` numbers."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(image_shape),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(dropout),
        layers.Dense(outputs, activation=activation),
    ], name=name)


def build_batchnorm_judge(image_shape, outputs: int = 10, name: str = "judge_batchnorm"):
    """The "batchnorm" judge (see the module docstring)."""
    import keras
    from keras import layers

    x = inputs = keras.Input(image_shape)
    x = layers.RandomTranslation(0.1, 0.1, fill_mode="constant")(x)
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        # Momentum 0.9: the moving statistics settle within about 50 steps, so a judge
        # trained on a few thousand images (a few hundred steps) is right at inference too.
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))
        x = layers.MaxPooling2D()(x) if filters < 128 else x  # (the last after the loop)
    x = layers.Flatten()(layers.MaxPooling2D()(x))
    x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(layers.Dense(128, use_bias=False)(x)))
    return keras.Model(inputs, layers.Dense(outputs, activation="softmax")(x), name=name)


BUILDERS = {"plain": build_judge, "batchnorm": build_batchnorm_judge}


def data_fingerprint(data: DigitData) -> str:
    """A hash of the training split the judges learn from (images and labels)."""
    digest = hashlib.sha256()
    for array in data.train:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def train_judge(data: DigitData, epochs: int, seed: int, kind: str = "plain"):
    """Train (or load from the cache) a judge on real training images; returns
    (judge, validation accuracy)."""
    judge, info = judge_cache(data, epochs, seed, kind)
    return judge, info["validation_acc"]


def judge_cache(data: DigitData, epochs: int, seed: int, kind: str = "plain"):
    """(judge, info) of a judge of this kind, epochs and seed for this data: loaded from the
    cache where one was trained before, else trained and stored there. info says which."""
    settings = {"kind": kind, "version": JUDGE_VERSION, "epochs": epochs, "seed": seed,
                "data": data_fingerprint(data),
                "image_shape": list(data.image_shape), "num_classes": int(data.num_classes)}
    build = lambda: BUILDERS[kind](data.image_shape, data.num_classes)  # noqa: E731

    def train():
        judge, accuracy = fit_classifier(build, *data.train, epochs, seed,
                                         "sparse_categorical_crossentropy", metrics=["accuracy"],
                                         validation=data.validation)
        return judge, {**settings, "architecture": JUDGES[kind], "validation_acc": accuracy}

    judge, info, how, key = cached_network("judges", settings, build, train)
    return judge, {**info, "cache": how, "cache_key": key}


def judge_features(judge):
    """The plain judge's penultimate layer (dense 128, after ReLU): the features of the FDD."""
    import keras

    return keras.Model(judge.inputs[0], judge.layers[-3].output)


def judge_labels(judge, images):
    """The judge's class for each image."""
    return predict(judge, images).argmax(1)


def judge_reader(judge):
    """The plain judge with its FDD features (``judge_features``) as a second output, so that
    one pass over images gives both (``read_with_features``)."""
    import keras

    return keras.Model(judge.inputs[0], [judge.outputs[0], judge_features(judge).outputs[0]])


def read_with_features(reader, images) -> tuple[np.ndarray, np.ndarray]:
    """(the judge's class, its features) of each image, from one pass of a judge_reader."""
    probabilities, features = reader.predict(images, batch_size=1000, verbose=0)
    return np.asarray(probabilities).argmax(1), np.asarray(features)
