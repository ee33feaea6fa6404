"""The one training-step engine of every model kind: losses declared as gradient groups.

A model (``GroupedModel``) declares its losses as groups (``groups()``), each a ``Group``:

- the variables its gradient updates, and the optimizer that applies it (``None``: the
  model's compiled optimizer, Adam on the run's learning-rate schedule; or one of the model's
  own, e.g. the adversary's);
- joint groups (``steps=0``) share one forward pass, ``loss_groups(images, targets,
  training)``, which returns one loss per joint group (in the order of ``groups()``), the
  logs to track and an ``aux`` dict for the sequential groups; each group's gradient reaches
  only its own variables, and gradients that meet one optimizer are summed;
- sequential groups (``steps=n``) run after the joint update, n updates each of their own
  loss ``loss(images, targets, aux, training) -> (loss, logs)`` on the updated weights (the
  adversary's extra steps on the frozen codes; a reverse cycle on a batch of its own);
- ``stream``: which batch a group reads. A model with ``batch_streams = k`` is fed k
  independently shuffled batches side by side (``infoae.data.training_batches``); the joint
  forward pass reads stream 0.

A loss is a scalar (already a batch mean) or per-sample values, which the engine averages
over the batch (on TensorFlow over the global batch, as ``tf.nn.compute_average_loss``, so
that ``tf.distribute`` sums replica gradients correctly).

The engine has one implementation per backend, ``engine_tensorflow`` and ``engine_jax``; the
model classes have no backend branch. ``make_schedule`` gives the learning-rate schedules
(cosine, step decay, constant) any group's optimizer can use.
"""

from __future__ import annotations

import keras
from keras import ops

from infoae.model.groups import Group, make_schedule, split_streams

__all__ = ["Group", "GroupedModel", "jit_compile", "make_schedule", "split_streams"]


def _implementation():
    """The engine of the backend Keras runs on."""
    if keras.backend.backend() == "jax":
        from infoae.model import engine_jax as implementation
    else:
        from infoae.model import engine_tensorflow as implementation
    return implementation


class GroupedModel(keras.Model):
    """A Keras model trained by the engine. Subclasses define ``groups()``,
    ``loss_groups()``, ``tracked`` names, and optionally ``prepare_step()`` (variables a step
    sets before its forward pass, e.g. a schedule's strength) and ``own_optimizers()``."""

    tracked: tuple[str, ...] = ()
    batch_streams: int = 1

    def make_trackers(self, names) -> None:
        self.trackers = {n: keras.metrics.Mean(name=n) for n in dict.fromkeys(names)}

    @property
    def metrics(self):
        return list(getattr(self, "trackers", {}).values())

    # ------------------------------------------------------------ declarations

    def groups(self) -> list[Group]:
        raise NotImplementedError

    def loss_groups(self, images, targets, training: bool):
        """([loss per joint group], {log name: values}, aux dict)."""
        raise NotImplementedError

    def prepare_step(self) -> None:
        """Assign what a training step needs before its forward pass (default: nothing)."""

    def own_optimizers(self) -> list:
        """Optimizers of the model's own beside the compiled one (their state is saved with
        the model's weights, and carried through the JAX step)."""
        return []

    def build_optimizers(self) -> None:
        """Build the compiled optimizer on every trainable variable, and each group's own
        optimizer on its group's variables."""
        self.optimizer.build(self.trainable_variables)
        for group in self.groups():
            if group.optimizer is not None and not group.optimizer.built:
                group.optimizer.build(group.variables)

    # ------------------------------------------------------------ the step

    def train_step(self, *args):
        return _implementation().train_step(self, *args)

    def test_step(self, *args):
        return _implementation().test_step(self, *args)

    def track(self, logs: dict) -> dict:
        """Update the trackers from a step's logs; the trackers' results."""
        for name, value in logs.items():
            if name in self.trackers:
                self.trackers[name].update_state(value)
        return _logs_for_workers(self, {n: t.result() for n, t in self.trackers.items()})

    @property
    def non_trainable_variables(self):
        """With the state the backend's step carries beside them (on JAX the model's own
        optimizers' state: Keras's JAX trainer carries only the compiled optimizer's).
        Checkpoints are unchanged: they save each object's own variables."""
        return super().non_trainable_variables + _implementation().carried_state(self)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras builds the model on a batch it first averages across replicas eagerly, which
        MultiWorkerMirroredStrategy's collective ops refuse (keras-team/keras#20585). The
        model is built by build_all already, so one local replica's batch serves."""
        strategy = getattr(self, "distribute_strategy", None)
        if iterator is not None and multi_worker(strategy):
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(
                    lambda x: strategy.experimental_local_results(x)[0], next(batches))
                break
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def multi_worker(strategy) -> bool:
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def _logs_for_workers(model, logs: dict) -> dict:
    """Under MultiWorkerMirroredStrategy Keras reduces each log across workers with
    reduce("MEAN", axis=0), which a scalar does not have (keras-team/keras#20585); one-element
    vectors reduce to the same scalars."""
    if not multi_worker(getattr(model, "distribute_strategy", None)):
        return logs
    return {name: ops.reshape(value, (1,)) for name, value in logs.items()}


def jit_compile(requested: bool) -> bool:
    """JAX runs a step op by op unless it is compiled, so it always is there."""
    return bool(requested) or keras.backend.backend() == "jax"
