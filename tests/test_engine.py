"""The one training-step engine (infoae.model.engine): loss groups with their own variables,
optimizers, extra steps and batch streams; learning-rate schedules; the same on both
backends."""

import keras
import numpy as np
import pytest

from infoae.config import load_config
from infoae.data.pipeline import ArrayBatches
from infoae.model.autoencoder import build_model
from infoae.model.engine import Group, GroupedModel, make_schedule
from tests.helpers import TINY_HEAD

pytestmark = pytest.mark.backends  # Also run on JAX by the README's test command.

SMALL = ["model.encoder_filters=[8, 8, 16]", "model.generator_filters=[16, 8, 8]",
         "model.encoder_dense=32", "model.adversary_hidden=32", *TINY_HEAD]


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _batch(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1)).astype("float32"), np.arange(n) % 10


def test_schedules_cosine_step_and_constant():
    cosine = make_schedule(1e-3, "cosine", 100, final_fraction=0.05)
    assert float(cosine(0)) == pytest.approx(1e-3) and float(cosine(100)) == pytest.approx(5e-5)
    step = make_schedule(1e-4, "step", 100, step_at=[0.8], step_factor=0.1)
    assert float(step(80)) == pytest.approx(1e-4) and float(step(81)) == pytest.approx(1e-5)
    two = make_schedule(1.0, "step", 10, step_at=[0.5, 0.2], step_factor=0.5)
    assert [float(two(s)) for s in (2, 3, 5, 6)] == pytest.approx([1.0, 0.5, 0.5, 0.25])
    assert make_schedule(0.01, "constant", 10) == 0.01
    with pytest.raises(ValueError, match="schedule"):
        make_schedule(0.01, "linear", 10)


def test_the_run_follows_the_configured_step_schedule():
    config = load_config(overrides=SMALL + ['train.lr_schedule="step"', "train.lr_step_at=[0.5]",
                                            "train.lr_step_factor=0.1", "train.epochs=2"])
    model = build_model(config, (28, 28, 1), steps_per_epoch=2)
    rates = []
    for step in range(4):  # The rate each of the run's 4 steps applies.
        model.optimizer.iterations.assign(step)
        rates.append(float(_numpy(model.optimizer.learning_rate)))
    assert rates == pytest.approx([1e-3, 1e-3, 1e-3, 1e-4])


def test_a_bad_schedule_is_refused_before_training():
    from infoae.errors import ConfigError

    with pytest.raises(ConfigError, match="train.lr_schedule"):
        load_config(overrides=['train.lr_schedule="linear"'])
    with pytest.raises(ConfigError, match="train.lr_step_at"):
        load_config(overrides=["train.lr_step_at=[1.5]"])


def test_info_autoencoder_groups():
    """Three groups: every non-swap loss on every variable, the swap losses on the encoder and
    the generator, the adversary's extra steps with its own optimizer."""
    model = build_model(load_config(overrides=SMALL + ["adversary.extra_steps=3"]), (28, 28, 1))
    groups = {g.name: g for g in model.groups()}
    assert list(groups) == ["losses", "swaps", "adversary"]
    ids = lambda variables: {id(v) for v in variables}  # noqa: E731
    assert ids(groups["losses"].variables) == ids(model.trainable_variables)
    assert ids(groups["swaps"].variables) == ids(model.style_encoder.trainable_variables
                                                 + model.generator.trainable_variables)
    adversary = groups["adversary"]
    assert adversary.steps == 3 and adversary.optimizer is model.adversary_optimizer
    assert ids(adversary.variables) == ids(model.adversary.trainable_variables)
    off = build_model(load_config(overrides=SMALL + ["adversary.extra_steps=0", "loss.info=0"]),
                      (28, 28, 1))
    assert [g.name for g in off.groups()] == ["losses"]


class _TwoGroups(GroupedModel):
    """A toy model: group "a" trains w_a with the compiled optimizer; joint group "c" trains
    w_c with SGD of its own; group "b" trains w_b with another SGD of its own, twice per step,
    on the second batch stream."""
    tracked = ("loss", "b")
    batch_streams = 2

    def __init__(self):
        super().__init__()
        self.w_a = self.add_weight(shape=(), initializer="zeros", name="w_a")
        self.w_b = self.add_weight(shape=(), initializer="zeros", name="w_b")
        self.w_c = self.add_weight(shape=(), initializer="zeros", name="w_c")
        self.own = keras.optimizers.SGD(0.1)
        self.joint_own = keras.optimizers.SGD(0.2)
        self.make_trackers(self.tracked)
        self.seen_b = []

    def call(self, images):
        return images

    def own_optimizers(self):
        return [self.own, self.joint_own]

    def groups(self):
        return [Group("a", [self.w_a]), Group("c", [self.w_c], optimizer=self.joint_own),
                Group("b", [self.w_b], optimizer=self.own, steps=2, loss=self._loss_b, stream=1)]

    def loss_groups(self, images, targets, training):
        # Pull w_a towards the mean of stream 0's images.
        loss = (self.w_a - keras.ops.mean(images)) ** 2
        loss_c = (self.w_c - keras.ops.mean(images)) ** 2
        return [loss, loss_c], {"loss": loss}, {"first": keras.ops.mean(images)}

    def _loss_b(self, images, targets, aux, training):
        # Pull w_b towards the mean of stream 1's images plus stream 0's (from aux).
        loss = (self.w_b - keras.ops.mean(images) - aux["first"]) ** 2
        return loss, {"b": loss}


def test_groups_train_their_own_variables_with_their_own_optimizer_and_stream():
    model = _TwoGroups()
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    model.build_optimizers()
    first = np.full((4, 1), 1.0, "float32")
    second = np.full((4, 1), 3.0, "float32")
    images = np.concatenate([first, second])  # Two streams side by side.
    model.train_on_batch(images, np.zeros(8, "int32"))
    # a: w_a -= 0.5 * 2 (w_a - 1) = 1.0; b: twice w_b -= 0.1 * 2 (w_b - 4): 0.8, then 1.44.
    assert float(_numpy(model.w_a)) == pytest.approx(1.0)
    assert float(_numpy(model.w_b)) == pytest.approx(1.44)
    # c, joint with an optimizer of its own: w_c -= 0.2 * 2 (w_c - 1) = 0.4.
    assert float(_numpy(model.w_c)) == pytest.approx(0.4)
    assert int(_numpy(model.own.iterations)) == 2 and int(_numpy(model.optimizer.iterations)) == 1
    assert int(_numpy(model.joint_own.iterations)) == 1


def test_batch_streams_are_independent_shuffles_and_stream_zero_is_the_plain_one():
    images = np.arange(40, dtype="uint8").reshape(40, 1, 1, 1)
    labels = np.arange(40)
    plain = ArrayBatches(images, labels, 8, shuffle=True, seed=3)
    two = ArrayBatches(images, labels, 8, shuffle=True, seed=3, streams=2)
    x, y = two[0]
    assert x.shape == (16, 1, 1, 1) and y.shape == (16,)
    np.testing.assert_array_equal(y[:8], plain[0][1])
    assert not np.array_equal(y[:8], y[8:])
    fixed = ArrayBatches(images, labels, 8, shuffle=False, streams=2)
    np.testing.assert_array_equal(fixed[1][1], np.concatenate([labels[8:16]] * 2))


def test_cycle_vae_trains_its_cycles_as_its_authors_do(recwarn):
    """baseline.separate_cycles: the reverse cycle is a step of its own, on a second batch, with
    an Adam optimizer of its own on the run's schedule (and no warning about the encoder
    layers its loss does not reach)."""
    config = load_config("cyclevae", SMALL + ["baseline.separate_cycles=true",
                                              'train.lr_schedule="step"', "train.epochs=2",
                                              "train.lr_step_at=[0.5]"])
    model = build_model(config, (28, 28, 1), steps_per_epoch=2)
    assert model.batch_streams == 2
    groups = {g.name: g for g in model.groups()}
    assert groups["reverse_cycle"].optimizer is model.reverse_optimizer
    assert groups["reverse_cycle"].steps == 1 and groups["reverse_cycle"].stream == 1
    images, labels = _batch(64)
    before = [_numpy(v).copy() for v in model.generator.trainable_variables]
    for _ in range(3):
        logs = model.train_on_batch(images, labels, return_dict=True)
    assert np.isfinite(logs["reverse_cycle"]) and np.isfinite(logs["reconstruction"])
    assert int(_numpy(model.reverse_optimizer.iterations)) == 3
    assert float(_numpy(model.reverse_optimizer.learning_rate)) == pytest.approx(1e-4)
    assert any(not np.allclose(b, _numpy(v)) for b, v in
               zip(before, model.generator.trainable_variables))
    assert not [w for w in recwarn if "Gradients do not exist" in str(w.message)]
