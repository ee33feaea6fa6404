"""The Info-autoencoder: a Keras model that composes the four sub-networks.

``InfoAutoencoder`` holds the style encoder, content head, adversary and generator
(``infoae.model.networks``), encodes and generates, prunes uninformative code dimensions,
and delegates its training step to ``infoae.model.steps`` and its losses to
``infoae.model.losses``. ``build_model`` makes one compiled with Adam on a cosine decay.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from infoae.config import Config
from infoae.model.losses import (batch_losses, dann_lambda, loss_weights, swap_losses,
                                 uses_loss_network, weighted_sum)
from infoae.model.networks import (build_adversary, build_content_head, build_generator,
                                   build_style_encoder)
from infoae.model.steps import MultiWorkerFixes, train_step_tensorflow


class InfoAutoencoder(MultiWorkerFixes, keras.Model):
    """The four sub-networks and the training step that ties them together."""

    def __init__(self, config: Config, image_shape, num_classes: int = 10, loss_network=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.image_shape = tuple(image_shape)
        self.num_classes = int(num_classes)
        self.loss_weights = loss_weights(config)
        self.style_encoder = build_style_encoder(self.image_shape, num_classes, config)
        self.content_head = build_content_head(self.image_shape, num_classes, config)
        self.adversary = build_adversary(num_classes, config)
        self.generator = build_generator(self.image_shape, num_classes, config)
        self.adversary_optimizer = keras.optimizers.Adam(config.adversary.learning_rate)
        self.seed_generator = keras.random.SeedGenerator(config.train.seed)
        # 1 for the code dimensions the style code keeps, 0 for pruned ones (see prune_style).
        # Not a weight: the run directory records it in run.json and load_run sets it.
        self.style_mask = np.ones(config.model.style_dim, "float32")
        self.total_steps = 1.0
        # The frozen loss network of the perceptual losses (None when they are off). A plain
        # attribute, so its weights stay out of the model's checkpoints: the run directory
        # keeps it in loss_network/ (see infoae.model.loss_network); inference never needs it.
        self.perceptual = None
        if uses_loss_network(config):
            from infoae.model.perceptual import PerceptualLoss, build_loss_network

            network = loss_network or build_loss_network(self.image_shape, num_classes)
            self.perceptual = PerceptualLoss(network, config.perceptual)
        # Trackers for the losses that are on, and the diagnostics a user watches.
        tracked = ["loss", *self.loss_weights, "content_acc", "adversary_acc", "code_std",
                   "reversal_lambda"]
        self.trackers = {name: keras.metrics.Mean(name=name) for name in dict.fromkeys(tracked)}

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def non_trainable_variables(self):
        """On JAX, the adversary optimizer's state travels with these through the stateless
        training step (Keras's JAX trainer carries only the main optimizer's). Checkpoints
        are unchanged: they save each object's own variables."""
        variables = super().non_trainable_variables
        optimizer = getattr(self, "adversary_optimizer", None)
        if keras.backend.backend() == "jax" and optimizer is not None and optimizer.built:
            variables = variables + list(optimizer.variables)
        return variables

    def call(self, images, training=False):
        """Style code (mean) and content class probabilities."""
        return self.encode_style(images, training=training), ops.softmax(
            self.content_head(images, training=training))

    # ------------------------------------------------------------ inference

    def encode_style(self, images, labels=None, training=False, pruned=True):
        """Style code (the mean of a variational code). A conditional encoder is given the
        labels, or the content head's predictions when labels is None. With pruned=False the
        dimensions that prune_style set to 0 are returned as the encoder computes them."""
        images = ops.convert_to_tensor(images, "float32")
        mean = self.encoder_outputs(images, labels, training)[0]
        return mean * ops.convert_to_tensor(self.style_mask) if pruned else mean

    def encoder_outputs(self, images, labels=None, training=False):
        """The encoder's outputs as a list: [mean] or [mean, log-variance]."""
        outputs = self.style_encoder(self._encoder_inputs(images, labels), training=training)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def _encoder_inputs(self, images, labels):
        if not self.config.model.conditional_encoder:
            return images
        if labels is None:
            labels = ops.argmax(self.content_head(images, training=False), axis=-1)
        return [images, ops.one_hot(ops.cast(labels, "int32"), self.num_classes)]

    def generate(self, codes, labels, training=False):
        one_hot = ops.one_hot(ops.cast(labels, "int32"), self.num_classes)
        return self.generator([ops.convert_to_tensor(codes, "float32"), one_hot], training=training)

    def fit_targets(self, labels: np.ndarray) -> np.ndarray:
        """What model.fit gets as targets for these labels: the labels (as for every method
        but LORD, infoae.model.baselines)."""
        return labels

    def finalise(self, images: np.ndarray, labels: np.ndarray) -> dict:
        """Work after training on training images: none here (the style code's pruning and
        class map are infoae.training.style_code's)."""
        return {}

    # ------------------------------------------------------------ pruning

    def dimension_information(self, images, labels=None, batch_size=1000):
        """Nats each code dimension carries about the image: 0.5 ln(1 + Var[mean] / E[var])
        over the given images (the Gaussian channel bound of a variational code)."""
        if not self.config.model.variational:
            raise ValueError("dimension information needs a variational code")
        means, variances = [], []
        for start in range(0, len(images), batch_size):
            batch = ops.convert_to_tensor(images[start:start + batch_size], "float32")
            part = None if labels is None else labels[start:start + batch_size]
            mean, log_var = self.encoder_outputs(batch, part, False)
            means.append(ops.convert_to_numpy(mean))
            variances.append(ops.convert_to_numpy(ops.exp(ops.clip(log_var, -10.0, 10.0))))
        means, variances = np.concatenate(means), np.concatenate(variances)
        return 0.5 * np.log1p(means.var(axis=0) / variances.mean(axis=0))

    def prune_style(self, images, labels=None, threshold: float | None = None) -> np.ndarray:
        """Keep the code dimensions carrying at least threshold nats (default model.prune_nats)
        about the images; set the others to the prior mean 0 in encode_style. Returns the nats
        per dimension."""
        nats = self.dimension_information(images, labels)
        keep = nats >= (self.config.model.prune_nats if threshold is None else threshold)
        if not keep.any():
            keep[np.argmax(nats)] = True  # Never an empty code.
        self.style_mask = keep.astype("float32")
        return nats

    # ------------------------------------------------------------ training

    def build_all(self):
        """Create every weight and both optimizers' slots (needed before loading a checkpoint)."""
        images = ops.zeros((2,) + self.image_shape)
        codes = self.encode_style(images)
        self.content_head(images)
        self.adversary(codes)
        self.generate(codes, ops.zeros((2,), "int32"))
        self.optimizer.build(self.trainable_variables)
        self.adversary_optimizer.build(self.adversary.trainable_variables)
        self.built = True

    def reversal_strength(self):
        a = self.config.adversary
        if a.schedule == "constant":
            return ops.convert_to_tensor(a.lambda_max, "float32")
        progress = ops.minimum(ops.cast(self.optimizer.iterations, "float32") / self.total_steps,
                               1.0)
        return a.lambda_max * dann_lambda(progress)

    def train_step(self, *args):
        """One step (steps.py on TensorFlow: train_step(data); steps_jax.py on JAX:
        train_step(state, data) -> logs, state)."""
        if keras.backend.backend() == "jax":
            from infoae.model.steps_jax import train_step_jax

            return train_step_jax(self, *args)
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(args[0])
        labels = ops.cast(labels, "int32")
        strength = self.reversal_strength()
        self.adversary.get_layer("gradient_reversal").strength.assign(strength)
        per_sample, accuracy, watched = train_step_tensorflow(self, images, labels)
        return self._track(per_sample, accuracy, watched, strength)

    def test_step(self, *args):
        if keras.backend.backend() == "jax":
            from infoae.model.steps_jax import test_step_jax

            return test_step_jax(self, *args)
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(args[0])
        labels = ops.cast(labels, "int32")
        per_sample, accuracy, codes, means, watched = batch_losses(self, images, labels,
                                                                   training=False)
        per_sample.update(swap_losses(self, images, codes, means))
        return self._track(per_sample, accuracy, watched, self.reversal_strength())

    def _track(self, per_sample, accuracy, watched, strength):
        """Update the trackers; code_std is the spread of the code the adversary sees."""
        self.trackers["loss"].update_state(weighted_sum(per_sample, self.loss_weights))
        for name, values in {**per_sample, **accuracy}.items():
            if name in self.trackers:
                self.trackers[name].update_state(values)
        self.trackers["code_std"].update_state(ops.mean(ops.std(watched, axis=0)))
        self.trackers["reversal_lambda"].update_state(strength)
        return self._logs_for_workers({n: t.result() for n, t in self.trackers.items()})


def build_model(config: Config, image_shape, steps_per_epoch: int = 1, loss_network=None,
                num_classes: int = 10, train_size: int = 1) -> keras.Model:
    """An InfoAutoencoder (or the method of model.kind, infoae.model.baselines) compiled with
    Adam on a cosine learning-rate decay.

    loss_network: the trained loss network of the perceptual losses (when they are on); an
    untrained one stands in when it is None, which is fine for inference only.
    train_size: training images (LORD learns a code for each).
    """
    keras.utils.set_random_seed(config.train.seed)
    if config.model.kind == "cyclevae":
        from infoae.model.cyclevae import CycleVAE

        model = CycleVAE(config, image_shape, num_classes, name="cyclevae")
        return _compiled(model, config, steps_per_epoch)
    if config.model.kind == "lord":
        from infoae.model.lord import Lord

        model = Lord(config, image_shape, num_classes, train_size, loss_network,
                     steps_per_epoch=steps_per_epoch, name="lord")
        return _compiled(model, config, steps_per_epoch)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.train.precision)
    try:  # The policy applies to the layers built now, and to no model built later.
        model = InfoAutoencoder(config, image_shape, num_classes, loss_network,
                                name="info_autoencoder")
    finally:
        keras.config.set_dtype_policy(previous)
    return _compiled(model, config, steps_per_epoch)


def _compiled(model, config: Config, steps_per_epoch: int):
    """The model compiled with Adam on a cosine learning-rate decay over the run's steps, its
    weights and optimizer slots built."""
    total_steps = max(1, config.train.epochs * steps_per_epoch)
    model.total_steps = float(total_steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.train.learning_rate, decay_steps=total_steps, alpha=config.train.lr_final_fraction)
    # JAX runs a step op by op unless it is compiled, so it always is there.
    jit = config.train.jit_compile or keras.backend.backend() == "jax"
    model.compile(optimizer=keras.optimizers.Adam(schedule), jit_compile=jit)
    model.build_all()
    return model


def count_parameters(model: keras.Model) -> int:
    return int(sum(math.prod(v.shape) for v in model.trainable_variables))
