"""The field's other methods as model kinds beside the Info-autoencoder (model.kind).

- ``cyclevae``: Jha et al. 2018's cycle-consistent VAE (``infoae.model.cyclevae``);
- ``lord``: Gabbay and Hoshen 2020's latent optimisation, then amortised encoders
  (``infoae.model.lord``).

Each is a Keras model with the Info-autoencoder's inference API, so ``Run``, ``load_run``,
evaluation, swap grids, the report and transfer take any of them unchanged:
``encode_style(images, labels=None, training=False, pruned=True)``, ``content_head(images)``
(class logits), ``generate(codes, labels)`` (the style drawn as each class, through the
method's code of that class), ``style_mask``, ``image_shape``, ``num_classes``, ``build_all()``
and ``finalise(images, labels)`` (after training, on training images).

``BaselineModel`` trains them: a method returns a few scalar losses (``loss_groups``), each
with the variables it updates (``group_variables``); one Adam step applies the sum of the
groups' gradients, on TensorFlow (a persistent tape) and on JAX (one ``jax.vjp``, a pullback
per group, inside a ``keras.StatelessScope`` as in ``infoae.model.steps_jax``).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from infoae.config import Config
from infoae.model.steps_jax import harvest, scoped


def build_image_encoder(image_shape, heads: dict[str, int], config: Config,
                        name: str) -> keras.Model:
    """The Info-autoencoder's encoder body (model.encoder_filters 5x5, 5x5, 3x3 stride-2
    convolutions, dense model.encoder_dense) with one dense head per name: image -> outputs
    in the order of heads."""
    m = config.model
    images = keras.Input(image_shape, name="images")
    x = images
    for filters, kernel in zip(m.encoder_filters, (5, 5, 3)):
        x = layers.Conv2D(filters, kernel, strides=2, padding="same", activation="relu")(x)
    x = layers.Dense(m.encoder_dense, activation="relu")(layers.Flatten()(x))
    outputs = [layers.Dense(width, name=head, dtype="float32")(x) for head, width in heads.items()]
    return keras.Model(images, outputs if len(outputs) > 1 else outputs[0], name=name)


def nearest_code_logits(codes, class_codes):
    """Class logits from the squared distance of each code to each class's code (the nearest
    class code has the highest logit)."""
    distances = (ops.sum(codes ** 2, axis=1, keepdims=True)
                 - 2.0 * ops.matmul(codes, ops.transpose(class_codes))
                 + ops.sum(class_codes ** 2, axis=1)[None, :])
    return -distances


class BaselineModel(keras.Model):
    """Shared parts of the field's methods: config, inference attributes, trackers and the
    training step over loss groups. Subclasses set ``tracked`` (log names), build their
    networks and define ``loss_groups``, ``group_variables`` and the inference API."""

    tracked: tuple[str, ...] = ()

    def __init__(self, config: Config, image_shape, num_classes: int = 10, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.image_shape = tuple(image_shape)
        self.num_classes = int(num_classes)
        self.seed_generator = keras.random.SeedGenerator(config.train.seed)
        # No pruning for these methods: every dimension is kept (the run records none).
        self.style_mask = np.ones(config.model.style_dim, "float32")
        self.total_steps = 1.0
        self.perceptual = None
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("loss", *self.tracked)}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def fit_targets(self, labels: np.ndarray) -> np.ndarray:
        """What model.fit gets as targets for these training labels (LORD adds indices)."""
        return labels

    def finalise(self, images: np.ndarray, labels: np.ndarray) -> dict:
        """Work after training on training images (e.g. class codes); returns what run.json
        records about it."""
        return {}

    def build_all(self):
        """Create every weight and the optimizer's slots (needed before loading weights)."""
        self.optimizer.build(self.trainable_variables)
        self.built = True

    # ------------------------------------------------------------ training

    def loss_groups(self, images, targets, training: bool):
        """([scalar loss per group], {log name: scalar}); the total loss is their sum."""
        raise NotImplementedError

    def group_variables(self) -> list[list]:
        """The variables each loss group updates, in the order of loss_groups."""
        raise NotImplementedError

    def _track(self, losses, logs):
        self.trackers["loss"].update_state(sum(losses[1:], losses[0]))
        for name, value in logs.items():
            self.trackers[name].update_state(value)
        return {n: t.result() for n, t in self.trackers.items()}

    def train_step(self, *args):
        if keras.backend.backend() == "jax":
            return self._train_step_jax(*args)
        import tensorflow as tf

        images, targets, _ = keras.utils.unpack_x_y_sample_weight(args[0])
        with tf.GradientTape(persistent=True) as tape:
            losses, logs = self.loss_groups(images, targets, training=True)
        grads = {}
        for loss, variables in zip(losses, self.group_variables()):
            for v, g in zip(variables, tape.gradient(loss, variables)):
                if g is not None:
                    g = tf.convert_to_tensor(g)  # Embedding lookups give IndexedSlices.
                    grads[id(v)] = g if id(v) not in grads else grads[id(v)] + g
        del tape
        variables = self.trainable_variables
        self.optimizer.apply([grads.get(id(v), ops.zeros_like(v)) for v in variables], variables)
        return self._track(losses, logs)

    def test_step(self, *args):
        if keras.backend.backend() == "jax":
            return self._test_step_jax(*args)
        images, targets, _ = keras.utils.unpack_x_y_sample_weight(args[0])
        return self._track(*self.loss_groups(images, targets, training=False))

    def _train_step_jax(self, state, data):
        import jax

        trainable, non_trainable, optimizer_values, metrics_values = state
        images, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        t_vars, nt_vars = self.trainable_variables, self.non_trainable_variables
        # The optimizer's step counter is readable inside the step (LORD's stages use it).
        o_pairs = list(zip(self.optimizer.variables, optimizer_values))

        def forward(values):
            with scoped([*zip(t_vars, values), *zip(nt_vars, non_trainable), *o_pairs]) as scope:
                losses, logs = self.loss_groups(images, targets, training=True)
            return tuple(losses), (logs, harvest(scope, nt_vars, non_trainable))

        losses, pullback, (logs, non_trainable) = jax.vjp(forward, trainable, has_aux=True)
        grads = [ops.zeros_like(value) for value in trainable]
        for k, variables in enumerate(self.group_variables()):
            ids = {id(v) for v in variables}
            cotangent = tuple(ops.ones_like(l) if i == k else ops.zeros_like(l)
                              for i, l in enumerate(losses))
            (group,) = pullback(cotangent)
            grads = [g + d if id(v) in ids else g for g, d, v in zip(grads, group, t_vars)]
        trainable, optimizer_values = self.optimizer.stateless_apply(optimizer_values, grads,
                                                                     trainable)
        with scoped(zip(self.metrics_variables, metrics_values)) as scope:
            logs = self._track(list(losses), logs)
        metrics_values = harvest(scope, self.metrics_variables, metrics_values)
        return logs, (trainable, non_trainable, optimizer_values, metrics_values)

    def _test_step_jax(self, state, data):
        trainable, non_trainable, metrics_values = state
        images, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        t_vars, nt_vars, m_vars = (self.trainable_variables, self.non_trainable_variables,
                                   self.metrics_variables)
        with scoped([*zip(t_vars, trainable), *zip(nt_vars, non_trainable)]) as scope:
            losses, logs = self.loss_groups(images, targets, training=False)
        non_trainable = harvest(scope, nt_vars, non_trainable)
        with scoped(zip(m_vars, metrics_values)) as scope:
            logs = self._track(losses, logs)
        return logs, (trainable, non_trainable, harvest(scope, m_vars, metrics_values))

