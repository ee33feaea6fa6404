"""Layers and augmentations of the Info-autoencoder: the gradient-reversal layer, random shifts."""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="infoae")
class GradientReversal(layers.Layer):
    """Identity on the forward pass; multiplies the gradient by -lambda on the backward pass.

    ``strength`` is a non-trainable weight, so a schedule can change it during training
    (Ganin and Lempitsky's "flip gradient" layer).
    """

    def __init__(self, strength: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_strength = float(strength)
        self.strength = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.initial_strength),
            trainable=False, name="strength")

    def call(self, inputs):
        strength = ops.convert_to_tensor(self.strength)

        @ops.custom_gradient
        def flip(x):
            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                return ops.negative(ops.multiply(upstream, ops.cast(strength, upstream.dtype)))
            return ops.multiply(x, ops.cast(1.0, x.dtype)), grad

        return flip(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "strength": self.initial_strength}


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
