"""Digit style transfer: Gatys et al.'s optimisation and the Info-autoencoder's one pass.

For digits, the *content* of a transfer is the content image's class and the *style* is
everything else about the style image (thickness, slant, width, colours, font).

- ``gatys_transfer``: optimise the pixels of the generated images, from the content images or
  from noise, to minimise content_weight * feature loss at perceptual.content_layer (against
  the content image) + style_weight * Gram style loss over perceptual.style_layers (against
  the style image) + tv_weight * total variation, through the frozen loss network
  (``infoae.model.perceptual``). L-BFGS-B (scipy, pixels bounded to [0, 1]) or Adam (pixels clipped
  to [0, 1]). A batch is one optimisation of the sum of independent per-image losses.
- ``infoae_transfer``: a trained run draws the style image's style code with the content
  head's reading of the content image (one forward pass).

    infoae transfer --method gatys --config configs/mnist.toml --content 3 --style 7
    infoae transfer --method infoae --run outputs/mnist --content 0:8 --style 8:16
"""

from __future__ import annotations

import time

import numpy as np

from infoae.config import PerceptualConfig, TransferConfig
from infoae.errors import ImageError


class Gatys:
    """Gatys et al.'s optimisation through a loss network; call it on batches of pairs.

    The loss and its gradient are traced once (tf.function on TensorFlow, jax.jit on JAX)
    and reused for every batch.
    """

    def __init__(self, network, perceptual: PerceptualConfig, settings: TransferConfig):
        import keras

        from infoae.model.perceptual import PerceptualLoss

        self.settings = settings
        self.loss = PerceptualLoss(network, perceptual)
        self.weights = {"content": settings.content_weight, "style": settings.style_weight,
                        "tv": settings.tv_weight}
        if keras.backend.backend() == "jax":
            import jax

            from keras import ops

            self._value_and_gradient = jax.jit(jax.value_and_grad(
                lambda images, targets: ops.sum(self.parts(images, targets)[0])))
        else:
            import tensorflow as tf

            self._value_and_gradient = tf.function(self._value_and_gradient_eager,
                                                   reduce_retracing=True)

    def parts(self, images, targets):
        """Per-image total loss and its parts."""
        values = self.loss.losses(images, targets)
        return sum(self.weights[name] * values[name] for name in self.weights), values

    def _value_and_gradient_eager(self, images, targets):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(images)
            total = tf.reduce_sum(self.parts(images, targets)[0])
        return total, tape.gradient(total, images)

    def __call__(self, content_images, style_images) -> tuple[np.ndarray, dict]:
        """Images (N, H, W, C) in [0, 1]; and a report: the mean per-image loss and its parts
        at the start and the end, iterations, seconds."""
        content_images = np.asarray(content_images, np.float32)
        style_images = np.asarray(style_images, np.float32)
        if content_images.shape != style_images.shape:
            raise ImageError(f"content and style images must pair up one to one; got shapes "
                             f"{content_images.shape} and {style_images.shape}")
        started = time.time()
        settings = self.settings
        targets = self.loss.targets(content_images, style_images)
        if settings.init == "content":
            start = content_images.copy()
        else:
            start = np.random.default_rng(settings.seed).uniform(
                size=content_images.shape).astype(np.float32)

        def value_and_gradient(images):
            return self._value_and_gradient(images, targets)

        optimise = _lbfgs if settings.optimizer == "lbfgs" else _adam
        result, iterations = optimise(value_and_gradient, start, settings)
        report = {"optimizer": settings.optimizer, "init": settings.init,
                  "iterations": iterations, "weights": self.weights, "n_images": len(result),
                  "start": self._mean_parts(start, targets), "end": self._mean_parts(result, targets),
                  "seconds": round(time.time() - started, 3)}
        return result, report

    def _mean_parts(self, images, targets) -> dict:
        total, values = self.parts(np.asarray(images, np.float32), targets)
        means = {name: float(np.mean(values[name])) for name in self.weights}
        return {"loss": float(np.mean(total)), **means}


def gatys_transfer(network, content_images, style_images, perceptual: PerceptualConfig,
                   settings: TransferConfig) -> tuple[np.ndarray, dict]:
    """One Gatys optimisation of a batch of pairs (see ``Gatys``)."""
    return Gatys(network, perceptual, settings)(content_images, style_images)


def _lbfgs(value_and_gradient, start, settings: TransferConfig):
    """scipy's L-BFGS-B over all pixels of the batch, bounded to [0, 1]."""
    from scipy.optimize import minimize

    shape = start.shape

    def objective(flat):
        value, gradient = value_and_gradient(flat.reshape(shape).astype(np.float32))
        return float(value), np.asarray(gradient, np.float64).ravel()

    result = minimize(objective, start.ravel().astype(np.float64), jac=True, method="L-BFGS-B",
                      bounds=[(0.0, 1.0)] * start.size,
                      options={"maxiter": settings.steps, "maxfun": 2 * settings.steps,
                               "ftol": 0.0, "gtol": 0.0})
    return result.x.reshape(shape).astype(np.float32), int(result.nit)


def _adam(value_and_gradient, start, settings: TransferConfig):
    """Adam on the pixels, clipped to [0, 1] after every step."""
    import keras

    images = keras.Variable(start, name="pixels")
    optimizer = keras.optimizers.Adam(settings.learning_rate)
    for _ in range(settings.steps):
        _, gradient = value_and_gradient(images.value)
        optimizer.apply([gradient], [images])
        images.assign(keras.ops.clip(images.value, 0.0, 1.0))
    return np.asarray(images.value), settings.steps


def infoae_transfer(run, content_images, style_images) -> np.ndarray:
    """The run's generator on (style code of the style image, content head's class of the
    content image): the Info-autoencoder's transfer, one forward pass."""
    labels = run.predict_content(content_images).argmax(axis=1)
    return run.swap(style_images, labels)
