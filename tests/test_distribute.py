"""Several devices on one host: tf.distribute.MirroredStrategy on two logical CPU devices."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infoae.config import load_config
from infoae.errors import ConfigError

SCRIPT = Path(__file__).parent / "scripts" / "mirrored_step.py"


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
