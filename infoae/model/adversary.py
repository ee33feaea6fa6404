"""The adversary (the paper's network B), all of it: its network, its loss, its schedule.

- ``GradientReversal``: identity forward, gradient times -lambda backward (Ganin and
  Lempitsky's "flip gradient" layer); lambda is a non-trainable weight a schedule sets.
- ``build_adversary``: style code -> reversal -> standardise -> dense -> class logits.
- ``dann_lambda`` / ``reversal_strength``: the reversal strength over training
  (adversary.schedule "dann" ramps it as 2 / (1 + exp(-10 p)) - 1, "constant" holds it).
- ``adversary_ce``: its cross-entropy, which behind the reversal is the encoder's penalty on
  class information in the style code (loss.adversary weighs it in the joint group).
- ``adversary_group``: its extra updates (adversary.extra_steps, its own Adam at
  adversary.learning_rate) on the frozen codes after each joint step: a sequential group of
  the training engine (``infoae.model.engine``).
- ``reset_adversary``: fresh weights and optimizer state (adversary.reset_epochs, through
  ``infoae.training.callbacks.AdversaryReset``).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from infoae.config import Config
from infoae.model.groups import Group

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


def build_adversary(num_classes: int, config: Config) -> keras.Model:
    """Style code -> class logits, behind the gradient-reversal layer.

    The code is standardised per dimension first (batch statistics, no learned scale), so
    shrinking or inflating the code cannot hide class information from the adversary.
    """
    codes = keras.Input((config.model.style_dim,), name="style_code")
    x = GradientReversal(name="gradient_reversal")(codes)
    x = layers.BatchNormalization(center=False, scale=False, name="standardise")(x)
    x = layers.Dense(config.model.adversary_hidden, activation="relu")(x)
    logits = layers.Dense(num_classes, name="adversary_logits", dtype="float32")(x)
    return keras.Model(codes, logits, name="adversary")


def dann_lambda(progress):
    """Ganin and Lempitsky's ramp 2 / (1 + exp(-10 p)) - 1 for progress p in [0, 1]."""
    return 2.0 / (1.0 + ops.exp(-10.0 * progress)) - 1.0


def reversal_strength(model):
    """The reversal strength for the model's next step (from its optimizer's step count)."""
    a = model.config.adversary
    if a.schedule == "constant":
        return ops.convert_to_tensor(a.lambda_max, "float32")
    progress = ops.minimum(ops.cast(model.optimizer.iterations, "float32") / model.total_steps,
                           1.0)
    return a.lambda_max * dann_lambda(progress)


def reversal_layer(adversary: keras.Model) -> GradientReversal:
    return adversary.get_layer("gradient_reversal")


def adversary_ce(labels, logits):
    """Per-sample cross-entropy of the adversary's class logits."""
    return keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def adversary_group(model) -> Group:
    """The adversary's extra updates on the frozen codes the joint pass watched
    (aux["watched"]), with its own optimizer."""

    def loss(images, labels, aux, training):
        logits = model.adversary(ops.stop_gradient(aux["watched"]), training=training)
        return adversary_ce(aux["labels"], logits), {}

    return Group("adversary", model.adversary.trainable_variables,
                 optimizer=model.adversary_optimizer, steps=model.config.adversary.extra_steps,
                 loss=loss)


def reset_adversary(model, seed: int) -> None:
    """Fresh weights (each layer's initialiser, seeded by seed) and optimizer state (Adam's
    moments and step count; its learning rate is kept) for model.adversary."""
    for index, layer in enumerate(model.adversary.layers):
        for name in ("kernel", "bias"):
            variable = getattr(layer, name, None)
            initializer = getattr(layer, f"{name}_initializer", None)
            if variable is None or initializer is None:
                continue
            config = initializer.get_config()
            if "seed" in config:
                config["seed"] = seed * 100 + index
            fresh = initializer.__class__.from_config(config)
            variable.assign(fresh(variable.shape, variable.dtype))
    optimizer = model.adversary_optimizer
    for variable in optimizer.variables:
        if variable.name != "learning_rate":
            variable.assign(keras.ops.zeros(variable.shape, variable.dtype))
