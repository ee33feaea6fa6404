"""Helpers for the plain classifiers and regressors around the model (the judge, the loss
network, the factor regressor): fit one on real images, and predict in batches."""

from __future__ import annotations

import sys

import numpy as np

# One learning rate and batch size for every helper network: they are small CNNs on real
# images, and sharing the recipe keeps them comparable.
LEARNING_RATE = 1e-3
BATCH_SIZE = 128


def fit_verbosity(verbose: int) -> int:
    """Keras fit's verbose setting: a log that is not a terminal gets one line per epoch (2)
    instead of a progress bar's escape codes (1)."""
    return 2 if verbose == 1 and not sys.stdout.isatty() else verbose


def fit_classifier(build, images: np.ndarray, targets: np.ndarray, epochs: int, seed: int,
                   loss, metrics=(), validation=None, verbose: int = 0):
    """Build (after seeding, so the weights are reproducible), compile with Adam and fit a
    network on uint8 images; returns (network, its first metric on the validation pair or
    NaN when there is none)."""
    import keras

    from infoae.data.pipeline import make_dataset, training_batches

    keras.utils.set_random_seed(seed)
    network = build()
    network.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=loss,
                    metrics=list(metrics))
    # Fewer images than a batch (a tiny data.train_limit) make one smaller batch.
    batches, steps = training_batches(images, targets, min(BATCH_SIZE, len(targets)), seed=seed)
    network.fit(batches, steps_per_epoch=steps, epochs=epochs, verbose=fit_verbosity(verbose),
                shuffle=False)
    score = float("nan")
    if validation is not None and len(validation[1]) and metrics:
        score = float(network.evaluate(make_dataset(*validation, 512, shuffle=False),
                                       verbose=0)[1])
    return network, score


def predict_in_batches(function, *arrays, batch_size=500) -> np.ndarray:
    """function applied to aligned slices of arrays, batch by batch, as one NumPy array."""
    from keras import ops

    outputs = [ops.convert_to_numpy(function(*(a[i:i + batch_size] for a in arrays)))
               for i in range(0, len(arrays[0]), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0,))


def predict(network, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """network(images, training=False) in batches, as one NumPy array: through Keras'
    compiled predict step (tf.function or jax.jit, the same outputs as an eager call) where
    there are images, as it reads large sets faster than eager batches."""
    if len(images) == 0:
        return predict_in_batches(lambda x: network(x, training=False), images,
                                  batch_size=batch_size)
    return np.asarray(network.predict(images, batch_size=batch_size, verbose=0))
