"""The Info-autoencoder: a Keras model that composes the four sub-networks.

``InfoAutoencoder`` holds the style encoder, content head and generator
(``infoae.model.networks``) and the adversary (``infoae.model.adversary``), encodes and
generates, and prunes uninformative code dimensions. It trains on the engine
(``infoae.model.engine``) with three loss groups: every non-swap loss of
``infoae.model.losses`` (all sub-networks; the adversary's gradient reaches the encoder
reversed), the swap losses (the encoder and the generator only), and the adversary's extra
updates with its own optimizer. ``build_model`` makes any model kind compiled with Adam on the
run's learning-rate schedule.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from infoae.config import Config
from infoae.model.adversary import (adversary_group, build_adversary, reversal_layer,
                                    reversal_strength)
from infoae.model.engine import Group, GroupedModel, jit_compile, make_schedule
from infoae.model.losses import (TERMS, batch_losses, loss_weights, swap_losses,
                                 uses_loss_network, weighted_sum)
from infoae.model.networks import build_content_head, build_generator, build_style_encoder


class InfoAutoencoder(GroupedModel):
    """The four sub-networks and the loss groups that train them together."""

    def __init__(self, config: Config, image_shape, num_classes: int = 10, loss_network=None,
                 total_steps: int = 1, **kwargs):
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
        self.total_steps = float(total_steps)
        # The frozen loss network of the perceptual losses (None when they are off). A plain
        # attribute, so its weights stay out of the model's checkpoints: the run directory
        # keeps it in loss_network/ (see infoae.model.loss_network); inference never needs it.
        self.perceptual = None
        if uses_loss_network(config):
            from infoae.model.perceptual import PerceptualLoss, build_loss_network

            network = loss_network or build_loss_network(self.image_shape, num_classes)
            self.perceptual = PerceptualLoss(network, config.perceptual)
        # Trackers for the losses that are on, and the diagnostics a user watches.
        self.make_trackers(["loss", *self.loss_weights, "content_acc", "adversary_acc",
                            "code_std", "reversal_lambda"])

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
        self.build_optimizers()
        if not self.adversary_optimizer.built:  # Built even with no extra steps (checkpoints).
            self.adversary_optimizer.build(self.adversary.trainable_variables)
        self.built = True

    def own_optimizers(self) -> list:
        return [getattr(self, "adversary_optimizer", None)]

    def reversal_strength(self):
        return reversal_strength(self)

    def groups(self) -> list[Group]:
        """Every non-swap loss trains every sub-network; the swap losses (when on) the encoder
        and the generator only; then the adversary's extra updates."""
        groups = [Group("losses", self.trainable_variables)]
        if any(term.swap and term.name in self.loss_weights for term in TERMS):
            groups.append(Group("swaps", self.style_encoder.trainable_variables
                                + self.generator.trainable_variables))
        if self.config.adversary.extra_steps:
            groups.append(adversary_group(self))
        return groups

    def prepare_step(self) -> None:
        """The reversal strength of this step, from the schedule."""
        reversal_layer(self.adversary).strength.assign(self.reversal_strength())

    def loss_groups(self, images, labels, training: bool):
        images, labels = ops.convert_to_tensor(images, "float32"), ops.cast(labels, "int32")
        per_sample, accuracy, codes, means, watched = batch_losses(self, images, labels,
                                                                   training=training)
        total = weighted_sum(per_sample, self.loss_weights)
        swap = swap_losses(self, images, codes, means)
        losses = [total] + ([weighted_sum(swap, self.loss_weights, swap=True)] if swap else [])
        logs = {**per_sample, **swap, **accuracy, "loss": total,
                # The spread of the code the adversary sees.
                "code_std": ops.mean(ops.std(watched, axis=0)),
                "reversal_lambda": ops.convert_to_tensor(reversal_layer(self.adversary).strength)}
        return losses, logs, {"watched": watched, "labels": labels}


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

        model = CycleVAE(config, image_shape, num_classes,
                         total_steps=_total_steps(config, steps_per_epoch), name="cyclevae")
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
                                total_steps=_total_steps(config, steps_per_epoch),
                                name="info_autoencoder")
    finally:
        keras.config.set_dtype_policy(previous)
    return _compiled(model, config, steps_per_epoch)


def _total_steps(config: Config, steps_per_epoch: int) -> int:
    return max(1, config.train.epochs * steps_per_epoch)


def _compiled(model, config: Config, steps_per_epoch: int):
    """The model compiled with Adam on the run's learning-rate schedule over its steps
    (train.lr_schedule), its weights and optimizer slots built."""
    t = config.train
    total_steps = _total_steps(config, steps_per_epoch)
    model.total_steps = float(total_steps)
    schedule = make_schedule(t.learning_rate, t.lr_schedule, total_steps, t.lr_final_fraction,
                             t.lr_step_at, t.lr_step_factor)
    model.compile(optimizer=keras.optimizers.Adam(schedule), jit_compile=jit_compile(t.jit_compile))
    model.build_all()
    return model


def count_parameters(model: keras.Model) -> int:
    return int(sum(math.prod(v.shape) for v in model.trainable_variables))
