"""Several devices on one host: tf.distribute.MirroredStrategy on two logical CPU devices."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infoae.config import load_config
from infoae.errors import ConfigError

SCRIPT = Path(__file__).parent / "scripts" / "mirrored_step.py"


@pytest.mark.slow
def test_mirrored_step_matches_one_device():
    """Same weights, same batch: one SGD step on two replicas moves every sub-network as far as
    on one device. A loss averaged per replica instead of over the global batch would make the
    two-replica step twice as long."""
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    single, mirrored = result["single"], result["mirrored"]
    assert single["replicas"] == 1 and mirrored["replicas"] == 2
    # The content head has no batch statistics: its step is the same to float precision.
    assert mirrored["steps"]["content_head"] == pytest.approx(single["steps"]["content_head"],
                                                              rel=1e-4)
    assert mirrored["losses"]["content_ce"] == pytest.approx(single["losses"]["content_ce"],
                                                             rel=1e-5)
    # The generator's batch normalisation sees each replica's half of the batch: close, not equal.
    for name in ("style_encoder", "generator"):
        assert mirrored["steps"][name] == pytest.approx(single["steps"][name], rel=0.05)
    assert mirrored["losses"]["loss"] == pytest.approx(single["losses"]["loss"], rel=0.05)


def test_distribute_settings_are_checked():
    with pytest.raises(ConfigError, match="train.distribute"):
        load_config(overrides=["train.distribute=tpu"])
    with pytest.raises(ConfigError, match="train.cpu_devices"):
        load_config(overrides=["train.cpu_devices=-1"])


def _free_ports(count):
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_on_loopback(tmp_path, monkeypatch):
    """train.distribute = multiworker: two `infoae train` processes on this host, joined by
    TF_CONFIG as two hosts of a cluster would be. Both train the same model (gradients
    all-reduced across them), the chief writes and evaluates the run, the other worker keeps
    its checkpoints beside it."""
    import os

    import numpy as np

    import infoae
    from tests.helpers import FAST, QUICKSTART, ROOT, sets

    workers = [f"localhost:{port}" for port in _free_ports(2)]
    run_dir = tmp_path / "cluster"
    overrides = FAST + ["train.distribute=multiworker", "train.epochs=3", "data.train_limit=2048",
                        "evaluate.factor_metrics=false", "evaluate.judge_epochs=1",
                        "evaluate.swap_size=100", "evaluate.probe_train_size=1000"]
    processes = []
    for index in range(2):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CONFIG": json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "infoae.cli", "train", "--config", QUICKSTART, "--run-dir",
             str(run_dir), *sets(overrides)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=900)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    worker_dir = tmp_path / "cluster.worker-1"
    assert (run_dir / "metrics.json").is_file() and not (worker_dir / "metrics.json").exists()
    assert (worker_dir / "checkpoints" / "latest.json").is_file()
    chief, worker = infoae.load_run(run_dir), infoae.load_run(worker_dir)
    for a, b in zip(chief.model.trainable_weights, worker.model.trainable_weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)  # In step.
    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert metrics["content_acc"] > 0.5  # Chance is 0.1: the cluster trained the model.
    from infoae.training.distribute import strategy_for, worker_index

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        strategy_for(load_config(overrides=["train.distribute=multiworker"]))
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, "task": {"index": 3}}')
    with pytest.raises(ConfigError, match="index into the worker list"):
        worker_index()
