"""The Info-autoencoder: style encoder, content head, adversary, generator.

- Style encoder (network A): two 5x5 and one 3x3 stride-2 convolutions with ReLU, Flatten,
  a dense layer, and the dense style code (with a log-variance beside it when the code is
  variational).
- Content head: a classifier of its own (two stages of two 3x3 convolutions, dense 256,
  dropout) that predicts the digit from the image; in training it sees the real images
  shifted by up to model.content_shift pixels.
- Adversary (network B): gradient-reversal layer, then two dense layers that predict the
  digit from the style code; the reversed gradient removes class information from the code.
- Generator: [style code, one-hot label] -> dense 4x4 map -> three stride-2 transposed
  convolutions (or nearest-neighbour upsampling and a convolution; model.generator_filters
  channels), each with batch normalisation and ReLU -> a 3x3
  convolution with sigmoid to the image channels (cropped to 28x28 for MNIST). Batch
  normalisation is our addition: without it Adam drives the sigmoid output to 0 within ten
  steps and the MSE gradient through the saturated sigmoid never brings it back.

The training step (``InfoAutoencoder.train_step``) combines the losses, ramps the reversal
strength, gives the adversary extra updates of its own, and keeps every loss a per-replica
average of the global batch so that ``tf.distribute`` sums gradients correctly.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from infoae.config import Config

NUM_CLASSES = 10


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


def build_style_encoder(image_shape, config: Config) -> keras.Model:
    """Image (and one-hot label, when conditional) -> style code mean (and log-variance)."""
    m = config.model
    images = keras.Input(image_shape, name="images")
    inputs = [images]
    x = images
    for filters, kernel in zip(m.encoder_filters, (5, 5, 3)):
        x = layers.Conv2D(filters, kernel, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    if m.conditional_encoder:
        labels = keras.Input((NUM_CLASSES,), name="label_one_hot")
        inputs.append(labels)
        x = layers.Concatenate()([x, labels])
    x = layers.Dense(m.encoder_dense, activation="relu")(x)
    mean = layers.Dense(m.style_dim, name="style_mean", dtype="float32")(x)
    outputs = [mean]
    if m.variational:
        outputs.append(layers.Dense(m.style_dim, name="style_log_var", dtype="float32")(x))
    return keras.Model(inputs, outputs, name="style_encoder")


def build_content_head(image_shape, config: Config) -> keras.Model:
    """Image -> class logits; a classifier of its own, never trained on generated images."""
    images = keras.Input(image_shape, name="images")
    x = images
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(config.model.content_dropout)(x)
    logits = layers.Dense(NUM_CLASSES, name="content_logits", dtype="float32")(x)
    return keras.Model(images, logits, name="content_head")


def build_adversary(config: Config) -> keras.Model:
    """Style code -> class logits, behind the gradient-reversal layer.

    The code is standardised per dimension first (batch statistics, no learned scale), so
    shrinking or inflating the code cannot hide class information from the adversary.
    """
    codes = keras.Input((config.model.style_dim,), name="style_code")
    x = GradientReversal(name="gradient_reversal")(codes)
    x = layers.BatchNormalization(center=False, scale=False, name="standardise")(x)
    x = layers.Dense(config.model.adversary_hidden, activation="relu")(x)
    logits = layers.Dense(NUM_CLASSES, name="adversary_logits", dtype="float32")(x)
    return keras.Model(codes, logits, name="adversary")


def build_generator(image_shape, config: Config) -> keras.Model:
    """[style code, one-hot label] -> image in [0, 1] of image_shape."""
    m = config.model
    height, width, channels = image_shape
    codes = keras.Input((m.style_dim,), name="style_code")
    labels = keras.Input((NUM_CLASSES,), name="label_one_hot")
    x = layers.Concatenate()([codes, labels])
    x = layers.Dense(4 * 4 * m.generator_filters[0], use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((4, 4, m.generator_filters[0]))(x)
    for filters in m.generator_filters:
        if m.generator_upsample == "resize":
            x = layers.UpSampling2D(2, interpolation="nearest")(x)
            x = layers.Conv2D(filters, m.generator_kernel, padding="same", use_bias=False)(x)
        else:
            x = layers.Conv2DTranspose(filters, m.generator_kernel, strides=2, padding="same",
                                       use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", dtype="float32")(x)
    crop_h, crop_w = (32 - height) // 2, (32 - width) // 2
    if crop_h or crop_w:
        x = layers.Cropping2D(((crop_h, 32 - height - crop_h), (crop_w, 32 - width - crop_w)),
                             dtype="float32")(x)
    return keras.Model([codes, labels], x, name="generator")


def dann_lambda(progress):
    """Ganin and Lempitsky's ramp 2 / (1 + exp(-10 p)) - 1 for progress p in [0, 1]."""
    return 2.0 / (1.0 + ops.exp(-10.0 * progress)) - 1.0


def class_mmd(codes, labels, bandwidths=(0.25, 1.0, 4.0)):
    """Per-sample share of the squared MMD between each class's codes and all codes.

    Codes are standardised per dimension over the batch first (so shrinking the code cannot
    lower the penalty); the kernel is a sum of Gaussian kernels with the given bandwidths
    (squared distances divided by the code size). The batch mean of the returned vector is
    sum_c (n_c / n) * MMD^2(codes of class c, all codes), the VFAE independence penalty.
    """
    codes = (codes - ops.mean(codes, axis=0)) / (ops.std(codes, axis=0) + 1e-4)
    dim = ops.cast(ops.shape(codes)[-1], codes.dtype)
    sq_norms = ops.sum(ops.square(codes), axis=-1)
    distances = (sq_norms[:, None] + sq_norms[None, :] - 2.0 * codes @ ops.transpose(codes)) / dim
    kernel = sum(ops.exp(-distances / (2.0 * b)) for b in bandwidths)
    # Unbiased: pairs of a code with itself (kernel value len(bandwidths)) are left out.
    self_kernel = float(len(bandwidths))
    one_hot = ops.one_hot(ops.cast(labels, "int32"), NUM_CLASSES)
    counts = ops.sum(one_hot, axis=0)
    n = ops.cast(ops.shape(codes)[0], codes.dtype)
    class_sums = ops.transpose(one_hot) @ kernel
    within = ((ops.diagonal(class_sums @ one_hot) - counts * self_kernel)
              / ops.maximum(counts * (counts - 1.0), 1.0))
    cross = (ops.sum(class_sums, axis=-1) - counts * self_kernel) / ops.maximum(counts * (n - 1.0), 1.0)
    total = (ops.sum(kernel) - n * self_kernel) / (n * (n - 1.0))
    per_class = ops.where(counts > 1, within - 2.0 * cross + total, 0.0)
    return ops.ones_like(codes[:, 0]) * ops.sum(counts / n * per_class)


_TRACKED = ("loss", "reconstruction", "content_ce", "content_acc", "adversary_ce",
            "adversary_acc", "kl", "independence", "info", "cycle", "perceptual_content",
            "perceptual_style", "tv", "swap_style", "code_std", "reversal_lambda")


def uses_loss_network(config: Config) -> bool:
    """Whether training needs the perceptual loss network (loss.perceptual_* > 0)."""
    loss = config.loss
    return loss.perceptual_content > 0 or loss.perceptual_style > 0 or loss.swap_style > 0


class InfoAutoencoder(keras.Model):
    """The four sub-networks and the training step that ties them together."""

    def __init__(self, config: Config, image_shape, loss_network=None, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.image_shape = tuple(image_shape)
        self.style_encoder = build_style_encoder(self.image_shape, config)
        self.content_head = build_content_head(self.image_shape, config)
        self.adversary = build_adversary(config)
        self.generator = build_generator(self.image_shape, config)
        self.adversary_optimizer = keras.optimizers.Adam(config.adversary.learning_rate)
        self.seed_generator = keras.random.SeedGenerator(config.train.seed)
        # 1 for the code dimensions the style code keeps, 0 for pruned ones (see prune_style).
        # Not a weight: the run directory records it in run.json and load_run sets it.
        self.style_mask = np.ones(config.model.style_dim, "float32")
        self.total_steps = 1.0
        # The frozen loss network of the perceptual losses (None when they are off). A plain
        # attribute, so its weights stay out of the model's checkpoints: the run directory
        # keeps it in loss_network/ (see infoae.perceptual), and inference never needs it.
        self.perceptual = None
        if uses_loss_network(config):
            from infoae.perceptual import PerceptualLoss, build_loss_network

            network = loss_network or build_loss_network(self.image_shape)
            self.perceptual = PerceptualLoss(network, config.perceptual)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in _TRACKED}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        """Style code (mean) and content class probabilities."""
        return self.encode_style(images, training=training), ops.softmax(
            self.content_head(images, training=training))

    def encode_style(self, images, labels=None, training=False, pruned=True):
        """Style code (the mean of a variational code). A conditional encoder is given the
        labels, or the content head's predictions when labels is None. With pruned=False the
        dimensions that prune_style set to 0 are returned as the encoder computes them."""
        images = ops.convert_to_tensor(images, "float32")
        mean = self._encoder_outputs(images, labels, training)[0]
        return mean * ops.convert_to_tensor(self.style_mask) if pruned else mean

    def dimension_information(self, images, labels=None, batch_size=1000):
        """Nats each code dimension carries about the image: 0.5 ln(1 + Var[mean] / E[var])
        over the given images (the Gaussian channel bound of a variational code)."""
        if not self.config.model.variational:
            raise ValueError("dimension information needs a variational code")
        means, variances = [], []
        for start in range(0, len(images), batch_size):
            batch = ops.convert_to_tensor(images[start:start + batch_size], "float32")
            part = None if labels is None else labels[start:start + batch_size]
            mean, log_var = self._encoder_outputs(batch, part, False)
            means.append(ops.convert_to_numpy(mean))
            variances.append(ops.convert_to_numpy(ops.exp(ops.clip(log_var, -10.0, 10.0))))
        means, variances = np.concatenate(means), np.concatenate(variances)
        return 0.5 * np.log1p(means.var(axis=0) / variances.mean(axis=0))

    def prune_style(self, images, labels=None) -> np.ndarray:
        """Keep the code dimensions carrying at least model.prune_nats about the images; set
        the others to the prior mean 0 in encode_style. Returns the nats per dimension."""
        nats = self.dimension_information(images, labels)
        keep = nats >= self.config.model.prune_nats
        if not keep.any():
            keep[np.argmax(nats)] = True  # Never an empty code.
        self.style_mask = keep.astype("float32")
        return nats

    def _encoder_outputs(self, images, labels, training):
        """The encoder's outputs as a list: [mean] or [mean, log-variance]."""
        outputs = self.style_encoder(self._encoder_inputs(images, labels), training=training)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def _encoder_inputs(self, images, labels):
        if not self.config.model.conditional_encoder:
            return images
        if labels is None:
            labels = ops.argmax(self.content_head(images, training=False), axis=-1)
        return [images, ops.one_hot(ops.cast(labels, "int32"), NUM_CLASSES)]

    def generate(self, codes, labels, training=False):
        one_hot = ops.one_hot(ops.cast(labels, "int32"), NUM_CLASSES)
        return self.generator([ops.convert_to_tensor(codes, "float32"), one_hot], training=training)

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

    def _batch_losses(self, images, labels, training):
        """Per-sample losses of one batch, plus the tensors the info term needs."""
        cfg = self.config
        outputs = self._encoder_outputs(images, labels, training)
        if cfg.model.variational:
            mean, log_var = outputs
            log_var = ops.clip(log_var, -10.0, 10.0)
            noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            codes = mean + ops.exp(0.5 * log_var) * noise if training else mean
            kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
        else:
            mean = codes = outputs[0]
            kl = ops.zeros_like(mean[:, 0])
        content_input = self._shift(images) if training and cfg.model.content_shift else images
        content_logits = self.content_head(content_input, training=training)
        if cfg.loss.generator_label == "true":
            generator_labels = labels
        else:
            generator_labels = ops.argmax(ops.stop_gradient(content_logits), axis=-1)
        recon = self.generate(codes, generator_labels, training=training)
        watched = codes if cfg.adversary.code == "sample" else mean
        adversary_logits = self.adversary(watched, training=training)
        per_sample = {
            "reconstruction": ops.mean(ops.square(recon - images), axis=(1, 2, 3)),
            "content_ce": keras.losses.sparse_categorical_crossentropy(
                labels, content_logits, from_logits=True),
            "adversary_ce": keras.losses.sparse_categorical_crossentropy(
                labels, adversary_logits, from_logits=True),
            "kl": kl,
            "independence": class_mmd(watched, labels),
            "cycle": self._cycle_loss(ops.shape(images)[0], training) if cfg.loss.cycle > 0
            else ops.zeros_like(kl),
            **self._perceptual_losses(images, recon),
        }
        accuracy = {
            "content_acc": ops.cast(ops.argmax(content_logits, -1) == labels, "float32"),
            "adversary_acc": ops.cast(ops.argmax(adversary_logits, -1) == labels, "float32"),
        }
        return per_sample, accuracy, codes, watched

    def _shift(self, images):
        """Each image translated by its own random whole-pixel offset in
        [-model.content_shift, model.content_shift] per axis, with zero fill.

        A product with one-hot shift matrices (rows: R[b, i, k] = 1 where k = i + dy_b; a
        source row outside the image gives an all-zero row), so XLA compiles it too, which
        it does not for TensorFlow's ImageProjectiveTransform."""
        limit = self.config.model.content_shift
        batch_size, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        offsets = keras.random.randint((batch_size, 2), -limit, limit + 1, seed=self.seed_generator)
        # Offsets are (dx, dy), in the order of the projective transform this replaced, so
        # runs made with it are reproduced exactly.
        rows = ops.one_hot(ops.arange(height)[None, :] + offsets[:, 1:], height, dtype=images.dtype)
        cols = ops.one_hot(ops.arange(width)[None, :] + offsets[:, :1], width, dtype=images.dtype)
        return ops.einsum("bik,bklc,bjl->bijc", rows, images, cols)

    def _perceptual_losses(self, images, recon) -> dict:
        """Johnson et al.'s losses of the reconstruction: the real image is both the content
        (feature) target and the style (Gram) target."""
        from infoae.perceptual import total_variation

        if self.perceptual is None:
            zeros = ops.zeros_like(recon[:, 0, 0, 0])
            return {"perceptual_content": zeros, "perceptual_style": zeros,
                    "tv": total_variation(recon)}
        losses = self.perceptual.losses(recon, self.perceptual.targets(images, images))
        return {"perceptual_content": losses["content"], "perceptual_style": losses["style"],
                "tv": losses["tv"]}

    def _cycle_loss(self, batch_size, training):
        """L1 distance between prior codes z and the re-encoded generate(z, random label)."""
        prior = keras.random.normal((batch_size, self.config.model.style_dim),
                                    seed=self.seed_generator)
        targets = keras.random.randint((batch_size,), 0, NUM_CLASSES, seed=self.seed_generator)
        drawn = self.generate(prior, targets, training=training)
        recovered = self._encoder_outputs(drawn, targets, training)[0]
        return ops.mean(ops.abs(recovered - prior), axis=-1)

    def _swap_losses(self, images, codes):
        """Losses of swaps generate(code_i, random label j), which have no target image:

        - info: cross-entropy of the (frozen) content head, which must read label j;
        - swap_style: the Gram style loss between the swap and its style source image i
          (Johnson et al.'s style reconstruction; Gram matrices ignore where strokes are, so
          a 7 drawn in the style of a 3 can match its thickness and colours).
        """
        batch_size = ops.shape(codes)[0]
        targets = keras.random.randint((batch_size,), 0, NUM_CLASSES, seed=self.seed_generator)
        swapped = self.generate(codes, targets, training=True)
        logits = self.content_head(swapped, training=False)
        losses = {"info": keras.losses.sparse_categorical_crossentropy(targets, logits,
                                                                       from_logits=True)}
        if self.perceptual is not None and self.config.loss.swap_style > 0:
            style = self.perceptual.targets(images, images)
            losses["swap_style"] = self.perceptual.losses(swapped, style)["style"]
        else:
            losses["swap_style"] = ops.zeros_like(losses["info"])
        return losses

    def _weighted_total(self, per_sample):
        w = self.config.loss
        kl_weight = w.kl if self.config.model.variational else 0.0
        return (w.reconstruction * per_sample["reconstruction"] + w.content * per_sample["content_ce"]
                + w.adversary * per_sample["adversary_ce"] + kl_weight * per_sample["kl"]
                + w.independence * per_sample["independence"] + w.cycle * per_sample["cycle"]
                + w.perceptual_content * per_sample["perceptual_content"]
                + w.perceptual_style * per_sample["perceptual_style"] + w.tv * per_sample["tv"])

    def train_step(self, data):
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        labels = ops.cast(labels, "int32")
        strength = self.reversal_strength()
        self.adversary.get_layer("gradient_reversal").strength.assign(strength)
        info_vars = self.style_encoder.trainable_variables + self.generator.trainable_variables
        with tf.GradientTape(persistent=True) as tape:
            per_sample, accuracy, codes, watched = self._batch_losses(images, labels, training=True)
            total = tf.nn.compute_average_loss(self._weighted_total(per_sample))
            swap = self._swap_losses(images, codes)
            info_total = tf.nn.compute_average_loss(
                self.config.loss.info * swap["info"] + self.config.loss.swap_style * swap["swap_style"])
        grads = tape.gradient(total, self.trainable_variables)
        if self.config.loss.info > 0 or self.config.loss.swap_style > 0:
            info_grads = dict(zip([v.path for v in info_vars], tape.gradient(info_total, info_vars)))
            grads = [g + info_grads[v.path] if v.path in info_grads and info_grads[v.path] is not None
                     else g for g, v in zip(grads, self.trainable_variables)]
        del tape
        self.optimizer.apply(grads, self.trainable_variables)
        self._extra_adversary_steps(ops.stop_gradient(watched), labels)
        per_sample.update(swap)
        return self._track(per_sample, accuracy, watched, strength)

    def _extra_adversary_steps(self, codes, labels):
        variables = self.adversary.trainable_variables
        for _ in range(self.config.adversary.extra_steps):
            with tf.GradientTape() as tape:
                logits = self.adversary(codes, training=True)
                loss = tf.nn.compute_average_loss(keras.losses.sparse_categorical_crossentropy(
                    labels, logits, from_logits=True))
            self.adversary_optimizer.apply(tape.gradient(loss, variables), variables)

    def test_step(self, data):
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        labels = ops.cast(labels, "int32")
        per_sample, accuracy, codes, watched = self._batch_losses(images, labels, training=False)
        per_sample.update(self._swap_losses(images, codes))
        return self._track(per_sample, accuracy, watched, self.reversal_strength())

    def _track(self, per_sample, accuracy, watched, strength):
        """Update the loss trackers; code_std is the spread of the code the adversary sees."""
        self.trackers["loss"].update_state(self._weighted_total(per_sample))
        for name, values in {**per_sample, **accuracy}.items():
            self.trackers[name].update_state(values)
        self.trackers["code_std"].update_state(ops.mean(ops.std(watched, axis=0)))
        self.trackers["reversal_lambda"].update_state(strength)
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        if _multi_worker(self.distribute_strategy):
            # Keras reduces each log across workers with reduce("MEAN", axis=0), which a
            # scalar does not have (keras-team/keras#20585); one-element vectors reduce to
            # the same scalars.
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras builds the model on a batch it first averages across replicas eagerly, which
        MultiWorkerMirroredStrategy's collective ops refuse (keras-team/keras#20585). The
        model is built by build_all already, so one local replica's batch serves."""
        strategy = self.distribute_strategy
        if iterator is not None and _multi_worker(strategy):
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(
                    lambda x: strategy.experimental_local_results(x)[0], next(batches))
                break
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def _multi_worker(strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def build_model(config: Config, image_shape, steps_per_epoch: int = 1,
                loss_network=None) -> InfoAutoencoder:
    """An InfoAutoencoder compiled with Adam on a cosine learning-rate decay.

    loss_network: the trained loss network of the perceptual losses (when they are on); an
    untrained one stands in when it is None, which is fine for inference only.
    """
    keras.utils.set_random_seed(config.train.seed)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.train.precision)
    try:  # The policy applies to the layers built now, and to no model built later.
        model = InfoAutoencoder(config, image_shape, loss_network, name="info_autoencoder")
    finally:
        keras.config.set_dtype_policy(previous)
    total_steps = max(1, config.train.epochs * steps_per_epoch)
    model.total_steps = float(total_steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.train.learning_rate, decay_steps=total_steps, alpha=config.train.lr_final_fraction)
    model.compile(optimizer=keras.optimizers.Adam(schedule), jit_compile=config.train.jit_compile)
    model.build_all()
    return model


def count_parameters(model: keras.Model) -> int:
    return int(sum(math.prod(v.shape) for v in model.trainable_variables))
