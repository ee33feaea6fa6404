"""The training engine's declarations (``infoae.model.engine`` has the engine): a loss group,
the learning-rate schedules, the batch streams."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import keras
from keras import ops

from infoae.config import SCHEDULES


@dataclass(frozen=True, eq=False)
class Group:
    """One loss group: its name, the variables it updates and how (see the module)."""
    name: str
    variables: list
    optimizer: object = None        # None: the model's compiled optimizer
    steps: int = 0                  # 0: joint; n > 0: n sequential updates after the joint one
    loss: Callable | None = None    # sequential: loss(images, targets, aux, training)
    stream: int = 0                 # the batch stream it reads


def make_schedule(learning_rate: float, kind: str, total_steps: int, final_fraction: float = 0.0,
                  step_at=(0.8,), step_factor: float = 0.1):
    """A learning rate for Adam: "cosine" decays to final_fraction of it over total_steps;
    "step" multiplies it by step_factor at each fraction of total_steps in step_at (Jha et
    al.: x0.1 at 80 of 100 epochs); "constant" keeps it."""
    if kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=max(1, total_steps), alpha=final_fraction)
    if kind == "step":
        boundaries = sorted({max(1, int(round(f * total_steps))) for f in step_at})
        values = [learning_rate * step_factor ** i for i in range(len(boundaries) + 1)]
        return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
    if kind == "constant":
        return float(learning_rate)
    raise ValueError(f"unknown learning-rate schedule {kind!r}; one of {', '.join(SCHEDULES)}")


def split_streams(images, targets, streams: int):
    """The batch of each stream from k batches fed side by side (one stream: as it is)."""
    if streams == 1:
        return [images], [targets]
    size = ops.shape(images)[0] // streams
    return ([images[k * size:(k + 1) * size] for k in range(streams)],
            [targets[k * size:(k + 1) * size] for k in range(streams)])


def own_optimizer_variables(joint: list[Group]) -> list[tuple[object, list]]:
    """Each optimizer of the model's own that joint groups use, with the variables of those
    groups (each once, in order): what it applies its summed gradients to."""
    pairs = {}
    for group in joint:
        if group.optimizer is not None:
            _, variables = pairs.setdefault(id(group.optimizer), (group.optimizer, {}))
            variables.update((id(v), v) for v in group.variables)
    return [(optimizer, list(variables.values())) for optimizer, variables in pairs.values()]
