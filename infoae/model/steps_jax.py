"""The training and validation steps on JAX: the TensorFlow step of ``steps.py``, stateless.

Keras's JAX trainer hands the step the model's state as value lists (trainable,
non-trainable, optimizer, metrics variables) and takes the new lists back. The losses are
the same functions as on TensorFlow (``infoae.model.losses``, Keras ops only); they run inside
a ``keras.StatelessScope`` that maps every variable to its value in the state, so random
seeds, the gradient-reversal strength and the trackers update the state, not the variables.

One step, as on TensorFlow: one forward pass gives the weighted non-swap loss (gradients to
every sub-network; the adversary's reaches the encoder reversed) and the weighted swap loss
(its gradients go to the encoder and the generator only: two pullbacks of one ``jax.vjp``);
Adam applies the sum; then the adversary alone gets adversary.extra_steps updates on the
frozen codes with its own Adam. The adversary's optimizer state travels with the model's
non-trainable variables (see ``InfoAutoencoder.non_trainable_variables``).
"""

from __future__ import annotations

import keras
from keras import ops

from infoae.model.losses import TERMS, batch_losses, swap_losses, weighted_sum


def scoped(pairs):
    return keras.StatelessScope(state_mapping=[(v, value) for v, value in pairs])


def harvest(scope, variables, values):
    """The values of variables after a stateless scope (the old value where unchanged)."""
    out = []
    for variable, value in zip(variables, values):
        new = scope.get_current_value(variable)
        out.append(value if new is None else new)
    return out


def train_step_jax(model, state, data):
    import jax

    trainable, non_trainable, optimizer_values, metrics_values = state
    images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
    images, labels = ops.convert_to_tensor(images, "float32"), ops.cast(labels, "int32")
    t_vars, nt_vars = model.trainable_variables, model.non_trainable_variables
    with scoped(zip(model.optimizer.variables, optimizer_values)):
        strength = model.reversal_strength()
    reversal = model.adversary.get_layer("gradient_reversal").strength
    non_trainable = [ops.cast(strength, value.dtype) if v is reversal else value
                     for v, value in zip(nt_vars, non_trainable)]
    weights = model.loss_weights

    def forward(trainable_values):
        with scoped([*zip(t_vars, trainable_values), *zip(nt_vars, non_trainable)]) as scope:
            per_sample, accuracy, codes, means, watched = batch_losses(model, images, labels,
                                                                       training=True)
            total = ops.mean(weighted_sum(per_sample, weights))
            swap = swap_losses(model, images, codes, means)
            swap_total = (ops.mean(weighted_sum(swap, weights, swap=True)) if swap
                          else ops.zeros((), total.dtype))
        per_sample.update(swap)
        return (total, swap_total), (per_sample, accuracy, watched,
                                     harvest(scope, nt_vars, non_trainable))

    (total, swap_total), pullback, aux = jax.vjp(forward, trainable, has_aux=True)
    per_sample, accuracy, watched, non_trainable = aux
    one, zero = ops.ones((), total.dtype), ops.zeros((), total.dtype)
    (grads,) = pullback((one, zero))
    if any(term.swap and term.name in weights for term in TERMS):
        (swap_grads,) = pullback((zero, one))
        info_ids = {id(v) for v in model.style_encoder.trainable_variables
                    + model.generator.trainable_variables}
        grads = [g + s if id(v) in info_ids else g for g, s, v in zip(grads, swap_grads, t_vars)]
    trainable, optimizer_values = model.optimizer.stateless_apply(optimizer_values, grads,
                                                                  trainable)
    trainable, non_trainable = _extra_adversary_steps(model, trainable, non_trainable,
                                                      ops.stop_gradient(watched), labels)
    with scoped(zip(model.metrics_variables, metrics_values)) as scope:
        logs = model._track(per_sample, accuracy, watched, strength)
    metrics_values = harvest(scope, model.metrics_variables, metrics_values)
    return logs, (trainable, non_trainable, optimizer_values, metrics_values)


def _extra_adversary_steps(model, trainable, non_trainable, codes, labels):
    """adversary.extra_steps Adam updates of the adversary alone on the frozen codes."""
    import jax

    steps = model.config.adversary.extra_steps
    if not steps:
        return trainable, non_trainable
    t_vars, nt_vars = model.trainable_variables, model.non_trainable_variables
    t_index = {id(v): i for i, v in enumerate(t_vars)}
    nt_index = {id(v): i for i, v in enumerate(nt_vars)}
    adv_vars = model.adversary.trainable_variables
    opt_vars = model.adversary_optimizer.variables
    values = [trainable[t_index[id(v)]] for v in adv_vars]
    opt_values = [non_trainable[nt_index[id(v)]] for v in opt_vars]

    def loss(adv_values):
        with scoped([*zip(nt_vars, non_trainable), *zip(adv_vars, adv_values)]):
            logits = model.adversary(codes, training=True)
            return ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits,
                                                                         from_logits=True))

    for _ in range(steps):
        values, opt_values = model.adversary_optimizer.stateless_apply(
            opt_values, jax.grad(loss)(values), values)
    trainable, non_trainable = list(trainable), list(non_trainable)
    for v, value in zip(adv_vars, values):
        trainable[t_index[id(v)]] = value
    for v, value in zip(opt_vars, opt_values):
        non_trainable[nt_index[id(v)]] = value
    return trainable, non_trainable


def test_step_jax(model, state, data):
    trainable, non_trainable, metrics_values = state
    images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
    images, labels = ops.convert_to_tensor(images, "float32"), ops.cast(labels, "int32")
    t_vars, nt_vars, m_vars = (model.trainable_variables, model.non_trainable_variables,
                               model.metrics_variables)
    with scoped([*zip(t_vars, trainable), *zip(nt_vars, non_trainable)]) as scope:
        per_sample, accuracy, codes, means, watched = batch_losses(model, images, labels,
                                                                   training=False)
        per_sample.update(swap_losses(model, images, codes, means))
    non_trainable = harvest(scope, nt_vars, non_trainable)
    # The optimizer's step counter is not in a test step's state; the reversal strength the
    # last training step set is.
    reversal = model.adversary.get_layer("gradient_reversal").strength
    strength = next(value for v, value in zip(nt_vars, non_trainable) if v is reversal)
    with scoped(zip(m_vars, metrics_values)) as scope:
        logs = model._track(per_sample, accuracy, watched, strength)
    return logs, (trainable, non_trainable, harvest(scope, m_vars, metrics_values))
