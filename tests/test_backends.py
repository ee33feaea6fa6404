"""The Keras backends: a run trained on JAX (with TensorFlow blocked) loads and computes the
same on TensorFlow, and the two backends learn alike from the same seed.

These tests start JAX in subprocesses (a process has one Keras backend); they are skipped
where JAX is not installed (`pip install -e ".[jax]"`).
"""

import csv
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import QUICKSTART, ROOT, sets

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                reason="JAX is not installed (pip install -e '.[jax]')")

NO_TENSORFLOW = ROOT / "tests" / "scripts" / "no_tensorflow"
# A small model on 2,048 sample digits, 6 epochs of 32 steps.
ALIKE = ["train.verbose=0", "train.epochs=6", "train.monitor_size=0", "data.train_limit=2048",
         "model.encoder_filters=[8, 16, 16]", "model.generator_filters=[16, 16, 8]",
         "model.encoder_dense=32", "model.adversary_hidden=32", "train.batch_size=64",
         "model.class_normalise=none"]


def _python(backend: str, *args, block_tensorflow: bool = False) -> str:
    path = [str(ROOT)] + ([str(NO_TENSORFLOW)] if block_tensorflow else [])
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": os.pathsep.join(path)}
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _train(backend: str, run_dir, overrides, block_tensorflow=False):
    _python(backend, "-m", "infoae.cli", "train", "--config", QUICKSTART, "--run-dir",
            str(run_dir), "--no-evaluate", *sets(overrides), block_tensorflow=block_tensorflow)


def _last_row(run_dir) -> dict:
    with open(run_dir / "logs" / "training.csv") as handle:
        return {k: float(v) for k, v in list(csv.DictReader(handle))[-1].items()}


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory):
    """The ALIKE config trained on JAX, in a process where TensorFlow cannot be imported."""
    run_dir = tmp_path_factory.mktemp("jax") / "run"
    _train("jax", run_dir, ALIKE, block_tensorflow=True)
    return run_dir


def test_jax_trains_without_tensorflow_and_its_run_loads_on_tensorflow(jax_run, tmp_path):
    info = (jax_run / "run.json").read_text()
    assert '"keras_backend": "jax"' in info
    assert not (jax_run / "logs" / "tensorboard").exists()  # TensorBoard needs TensorFlow.
    _python("jax", "tests/scripts/backend_outputs.py", str(jax_run), str(tmp_path / "jax.npz"),
            block_tensorflow=True)
    _python("tensorflow", "tests/scripts/backend_outputs.py", str(jax_run),
            str(tmp_path / "tf.npz"))
    on_jax, on_tf = np.load(tmp_path / "jax.npz"), np.load(tmp_path / "tf.npz")
    steps = 6 * (2048 // 64)
    assert on_tf["iterations"].tolist() == on_jax["iterations"].tolist() == [steps, steps * 5]
    for name in ("codes", "reconstructions", "content"):
        np.testing.assert_allclose(on_tf[name], on_jax[name], atol=2e-4, err_msg=name)


def test_the_backends_learn_alike_from_the_same_seed(jax_run, tmp_path):
    """Same config, seed and steps: the backends draw different random numbers (weights,
    shuffles, noise), so they agree as two runs of one backend do, not bit for bit."""
    tf_run = tmp_path / "tf"
    _train("tensorflow", tf_run, ALIKE)
    on_jax, on_tf = _last_row(jax_run), _last_row(tf_run)
    assert abs(on_jax["val_content_acc"] - on_tf["val_content_acc"]) <= 0.03
    for name in ("reconstruction", "content_ce", "adversary_ce", "kl", "independence", "info"):
        assert on_jax[name] == pytest.approx(on_tf[name], rel=0.15), name
