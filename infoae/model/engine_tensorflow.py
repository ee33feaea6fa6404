"""The engine's step on TensorFlow (``infoae.model.groups`` declares the groups).

One persistent tape over the joint forward pass gives each joint group's gradient on its own
variables; the gradients that meet one optimizer are summed and applied (the compiled
optimizer gets every trainable variable, a zero gradient where no group reaches); then each
sequential group runs its updates. Losses are averaged over the global batch, so
``tf.distribute`` (which sums the replicas' gradients) trains as one device would.
"""

from __future__ import annotations

import keras
from keras import ops

from infoae.model.groups import own_optimizer_variables, split_streams


def carried_state(model) -> list:
    """Nothing beside the non-trainable variables: TensorFlow's step updates variables in
    place."""
    return []


def _reduce(loss):
    """A batch mean over the global batch: per-sample values through
    tf.nn.compute_average_loss, a (per-replica) scalar divided by the replica count."""
    import tensorflow as tf

    if len(loss.shape) > 0:
        return tf.nn.compute_average_loss(loss)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss if replicas == 1 else loss / replicas


def train_step(model, data):
    import tensorflow as tf

    images, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    images, targets = split_streams(images, targets, model.batch_streams)
    model.prepare_step()
    groups = model.groups()
    joint = [g for g in groups if not g.steps]
    with tf.GradientTape(persistent=True) as tape:
        losses, logs, aux = model.loss_groups(images[0], targets[0], training=True)
        reduced = [_reduce(loss) for loss in losses]
    sums = {}  # optimizer -> {variable id: summed gradient}
    for loss, group in zip(reduced, joint):
        into = sums.setdefault(id(group.optimizer), {})
        for variable, grad in zip(group.variables, tape.gradient(loss, group.variables)):
            if grad is not None:
                grad = tf.convert_to_tensor(grad)  # Embedding lookups give IndexedSlices.
                key = id(variable)
                into[key] = grad if key not in into else into[key] + grad
    del tape
    _apply(model, joint, sums)
    for group in groups:
        for _ in range(group.steps):
            with tf.GradientTape() as tape:
                loss, group_logs = group.loss(images[group.stream], targets[group.stream], aux,
                                              True)
                loss = _reduce(loss)
            _apply_reached(group.optimizer, tape.gradient(loss, group.variables),
                           group.variables)
            logs = {**logs, **group_logs}
    return model.track(logs)


def _apply_reached(optimizer, grads, variables) -> None:
    """Apply a sequential group's gradients to the variables its loss reaches (the reverse
    cycle does not reach every encoder layer): the optimizer skips the others, as Keras does
    for a None gradient, without Keras' warning that a loss is missing."""
    pairs = [(grad, variable) for grad, variable in zip(grads, variables) if grad is not None]
    optimizer.apply([grad for grad, _ in pairs], [variable for _, variable in pairs])


def _apply(model, joint, sums) -> None:
    """Each optimizer applies its summed gradients: the compiled one to every trainable
    variable (zero where no group reached: Adam's slots stay in step), an own one to the
    variables of its groups."""
    variables = model.trainable_variables
    main = sums.get(id(None), {})
    model.optimizer.apply([main.get(id(v), ops.zeros_like(v)) for v in variables], variables)
    for optimizer, own in own_optimizer_variables(joint):
        grads = sums[id(optimizer)]
        optimizer.apply([grads.get(id(v), ops.zeros_like(v)) for v in own], own)


def test_step(model, data):
    images, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    images, targets = split_streams(images, targets, model.batch_streams)
    _, logs, _ = model.loss_groups(images[0], targets[0], training=False)
    return model.track(logs)
