"""Augmentations of the Info-autoencoder: random shifts (the gradient-reversal layer is the
adversary's, ``infoae.model.adversary``)."""

from __future__ import annotations

import keras
from keras import ops


def random_shift(images, limit: int, seed_generator):
    """Each image translated by its own random whole-pixel offset in [-limit, limit] per axis,
    with zero fill.

    A product with one-hot shift matrices (rows: R[b, i, k] = 1 where k = i + dy_b; a source
    row outside the image gives an all-zero row), so XLA compiles it too, which it does not
    for TensorFlow's ImageProjectiveTransform."""
    batch_size, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    offsets = keras.random.randint((batch_size, 2), -limit, limit + 1, seed=seed_generator)
    # Offsets are (dx, dy), in the order of the projective transform this replaced, so runs
    # made with it are reproduced exactly.
    rows = ops.one_hot(ops.arange(height)[None, :] + offsets[:, 1:], height, dtype=images.dtype)
    cols = ops.one_hot(ops.arange(width)[None, :] + offsets[:, :1], width, dtype=images.dtype)
    return ops.einsum("bik,bklc,bjl->bijc", rows, images, cols)
