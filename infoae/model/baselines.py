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

``BaselineModel`` holds what they share; they train on the engine of every model kind
(``infoae.model.engine``): a method declares its loss groups (``groups``: the variables each
updates, with which optimizer, jointly or in steps of their own) and computes the joint ones
in ``loss_groups``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from infoae.config import Config
from infoae.model.engine import GroupedModel


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


class BaselineModel(GroupedModel):
    """Shared parts of the field's methods: config, inference attributes and trackers.
    Subclasses set ``tracked`` (log names), build their networks and define ``groups``,
    ``loss_groups`` and the inference API."""

    def __init__(self, config: Config, image_shape, num_classes: int = 10,
                 total_steps: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.image_shape = tuple(image_shape)
        self.num_classes = int(num_classes)
        self.seed_generator = keras.random.SeedGenerator(config.train.seed)
        # No pruning for these methods: every dimension is kept (the run records none).
        self.style_mask = np.ones(config.model.style_dim, "float32")
        self.total_steps = float(total_steps)
        self.perceptual = None
        self.make_trackers(("loss", *self.tracked))

    def fit_targets(self, labels: np.ndarray) -> np.ndarray:
        """What model.fit gets as targets for these training labels (LORD adds indices)."""
        return labels

    def finalise(self, images: np.ndarray, labels: np.ndarray) -> dict:
        """Work after training on training images (e.g. class codes); returns what run.json
        records about it."""
        return {}

    def build_all(self):
        """Create every weight and the optimizers' slots (needed before loading weights)."""
        self.build_optimizers()
        self.built = True
