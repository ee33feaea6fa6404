"""The training step on TensorFlow, and the Keras workarounds of multi-worker training
(``steps_jax.py`` has the same step on JAX).

One step: the weighted non-swap losses train every sub-network (the adversary's gradient
reaches the encoder reversed); the swap losses (info, swap_style, swap_cycle) add their
gradients to the encoder's and the generator's only; then the adversary gets extra updates of
its own on the frozen codes. Every loss is a per-replica average of the global batch
(``tf.nn.compute_average_loss``) so that ``tf.distribute`` sums gradients correctly.
"""

from __future__ import annotations

import keras
from keras import ops

from infoae.model.losses import batch_losses, swap_losses, weighted_sum


def train_step_tensorflow(model, images, labels):
    """One optimisation step of every network; returns what the trackers need."""
    import tensorflow as tf

    info_vars = model.style_encoder.trainable_variables + model.generator.trainable_variables
    weights = model.loss_weights
    with tf.GradientTape(persistent=True) as tape:
        per_sample, accuracy, codes, means, watched = batch_losses(model, images, labels,
                                                                   training=True)
        total = tf.nn.compute_average_loss(weighted_sum(per_sample, weights))
        swap = swap_losses(model, images, codes, means)
        if swap:
            swap_total = tf.nn.compute_average_loss(weighted_sum(swap, weights, swap=True))
    # A variable that no loss reaches gets a zero gradient (Adam then leaves it be).
    grads = [ops.zeros_like(v) if g is None else g
             for g, v in zip(tape.gradient(total, model.trainable_variables),
                             model.trainable_variables)]
    if swap:
        swap_grads = dict(zip([v.path for v in info_vars], tape.gradient(swap_total, info_vars)))
        grads = [g + swap_grads[v.path] if swap_grads.get(v.path) is not None else g
                 for g, v in zip(grads, model.trainable_variables)]
    del tape
    model.optimizer.apply(grads, model.trainable_variables)
    extra_adversary_steps(model, ops.stop_gradient(watched), labels)
    per_sample.update(swap)
    return per_sample, accuracy, watched


def extra_adversary_steps(model, codes, labels):
    """adversary.extra_steps updates of the adversary alone on the given (frozen) codes."""
    import tensorflow as tf

    variables = model.adversary.trainable_variables
    for _ in range(model.config.adversary.extra_steps):
        with tf.GradientTape() as tape:
            logits = model.adversary(codes, training=True)
            loss = tf.nn.compute_average_loss(keras.losses.sparse_categorical_crossentropy(
                labels, logits, from_logits=True))
        model.adversary_optimizer.apply(tape.gradient(loss, variables), variables)


def multi_worker(strategy) -> bool:
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


class MultiWorkerFixes:
    """Two workarounds for keras-team/keras#20585, active only under
    MultiWorkerMirroredStrategy; mixed into the Keras model class."""

    def _logs_for_workers(self, logs: dict) -> dict:
        """Keras reduces each log across workers with reduce("MEAN", axis=0), which a scalar
        does not have; one-element vectors reduce to the same scalars."""
        if not multi_worker(getattr(self, "distribute_strategy", None)):
            return logs
        return {name: ops.reshape(value, (1,)) for name, value in logs.items()}

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras builds the model on a batch it first averages across replicas eagerly, which
        MultiWorkerMirroredStrategy's collective ops refuse. The model is built by build_all
        already, so one local replica's batch serves."""
        strategy = getattr(self, "distribute_strategy", None)
        if iterator is not None and multi_worker(strategy):
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(
                    lambda x: strategy.experimental_local_results(x)[0], next(batches))
                break
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
