"""The engine's step on JAX, stateless (``infoae.model.groups`` declares the groups).

Keras's JAX trainer hands the step the model's state as value lists (trainable,
non-trainable, optimizer, metrics variables) and takes the new lists back. The model's own
functions run inside a ``keras.StatelessScope`` that maps every variable to its value in the
state, so random seeds, schedules and trackers update the state, not the variables. The
model's own optimizers' state travels with the non-trainable values
(``GroupedModel.non_trainable_variables``).

One step, as on TensorFlow: ``prepare_step``; one ``jax.vjp`` of the joint forward pass and
a pullback per joint group, each group's gradient kept on its own variables and summed per
optimizer; the optimizers apply them; then each sequential group's updates (``jax.grad``).
"""

from __future__ import annotations

import keras
from keras import ops

from infoae.model.groups import own_optimizer_variables, split_streams


def scoped(pairs):
    return keras.StatelessScope(state_mapping=[(v, value) for v, value in pairs])


def harvest(scope, variables, values):
    """The values of variables after a stateless scope (the old value where unchanged)."""
    out = []
    for variable, value in zip(variables, values):
        new = scope.get_current_value(variable)
        out.append(value if new is None else new)
    return out


def carried_state(model) -> list:
    """The model's own optimizers' variables, which travel with the non-trainable state
    through the stateless step."""
    return [variable for optimizer in model.own_optimizers()
            if optimizer is not None and optimizer.built for variable in optimizer.variables]


def _mean(loss):
    return loss if len(loss.shape) == 0 else ops.mean(loss)


class _State:
    """The step's variable values by variable, read and written through the trainer's lists."""

    def __init__(self, model, trainable, non_trainable, optimizer_values):
        self.lists = {"t": list(trainable), "nt": list(non_trainable),
                      "o": list(optimizer_values)}
        self.where = {}
        for key, variables in (("t", model.trainable_variables),
                               ("nt", model.non_trainable_variables),
                               ("o", model.optimizer.variables)):
            for index, variable in enumerate(variables):
                self.where.setdefault(id(variable), (key, index))
        self.variables = {"t": model.trainable_variables, "nt": model.non_trainable_variables,
                          "o": model.optimizer.variables}

    def pairs(self, *keys):
        return [pair for key in keys for pair in zip(self.variables[key], self.lists[key])]

    def get(self, variables):
        return [self.lists[self.where[id(v)][0]][self.where[id(v)][1]] for v in variables]

    def set(self, variables, values):
        for variable, value in zip(variables, values):
            key, index = self.where[id(variable)]
            self.lists[key][index] = value


def train_step(model, state, data):
    import jax

    trainable, non_trainable, optimizer_values, metrics_values = state
    images, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    images, targets = split_streams(images, targets, model.batch_streams)
    s = _State(model, trainable, non_trainable, optimizer_values)
    with scoped(s.pairs("t", "nt", "o")) as scope:
        model.prepare_step()
    s.lists["nt"] = harvest(scope, s.variables["nt"], s.lists["nt"])
    groups = model.groups()
    joint = [g for g in groups if not g.steps]
    t_vars = s.variables["t"]

    def forward(values):
        with scoped([*s.pairs("nt", "o"), *zip(t_vars, values)]) as scope:
            losses, logs, aux = model.loss_groups(images[0], targets[0], training=True)
        return (tuple(_mean(loss) for loss in losses),
                (logs, aux, harvest(scope, s.variables["nt"], s.lists["nt"])))

    losses, pullback, (logs, aux, s.lists["nt"]) = jax.vjp(forward, s.lists["t"], has_aux=True)
    sums = {}  # optimizer -> [gradient per trainable variable]
    for k, group in enumerate(joint):
        cotangent = tuple(ops.ones_like(l) if i == k else ops.zeros_like(l)
                          for i, l in enumerate(losses))
        (grads,) = pullback(cotangent)
        ids = {id(v) for v in group.variables}
        into = sums.setdefault(id(group.optimizer), [ops.zeros_like(v) for v in s.lists["t"]])
        sums[id(group.optimizer)] = [g + d if id(v) in ids else g
                                     for g, d, v in zip(into, grads, t_vars)]
    _apply(model, joint, sums, s)
    for group in groups:
        for _ in range(group.steps):
            logs = {**logs, **_sequential_update(model, group, s, images, targets, aux)}
    with scoped(zip(model.metrics_variables, metrics_values)) as scope:
        logs = model.track(logs)
    metrics_values = harvest(scope, model.metrics_variables, metrics_values)
    return logs, (s.lists["t"], s.lists["nt"], s.lists["o"], metrics_values)


def _apply(model, joint, sums, s: _State) -> None:
    """The compiled optimizer applies its sums to every trainable variable (zeros where no
    group reached), an own optimizer to its groups' variables."""
    t_vars = s.variables["t"]
    main = sums.get(id(None), [ops.zeros_like(v) for v in s.lists["t"]])
    s.lists["t"], s.lists["o"] = model.optimizer.stateless_apply(s.lists["o"], main, s.lists["t"])
    for optimizer, own in own_optimizer_variables(joint):
        by_id = dict(zip((id(v) for v in t_vars), sums[id(optimizer)]))
        values, slots = optimizer.stateless_apply(s.get(optimizer.variables),
                                                  [by_id[id(v)] for v in own], s.get(own))
        s.set(own, values)
        s.set(optimizer.variables, slots)


def _sequential_update(model, group, s: _State, images, targets, aux) -> dict:
    """One update of a sequential group on the current values; its logs."""
    import jax

    variables = group.variables

    def loss(values):
        with scoped([*s.pairs("t", "nt", "o"), *zip(variables, values)]) as scope:
            value, logs = group.loss(images[group.stream], targets[group.stream], aux, True)
        return _mean(value), (logs, harvest(scope, s.variables["nt"], s.lists["nt"]))

    grads, (logs, s.lists["nt"]) = jax.grad(loss, has_aux=True)(s.get(variables))
    values, slots = group.optimizer.stateless_apply(s.get(group.optimizer.variables), grads,
                                                    s.get(variables))
    s.set(variables, values)
    s.set(group.optimizer.variables, slots)
    return logs


def test_step(model, state, data):
    trainable, non_trainable, metrics_values = state
    images, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    images, targets = split_streams(images, targets, model.batch_streams)
    t_vars, nt_vars, m_vars = (model.trainable_variables, model.non_trainable_variables,
                               model.metrics_variables)
    with scoped([*zip(t_vars, trainable), *zip(nt_vars, non_trainable)]) as scope:
        _, logs, _ = model.loss_groups(images[0], targets[0], training=False)
    non_trainable = harvest(scope, nt_vars, non_trainable)
    with scoped(zip(m_vars, metrics_values)) as scope:
        logs = model.track(logs)
    return logs, (trainable, non_trainable, harvest(scope, m_vars, metrics_values))
