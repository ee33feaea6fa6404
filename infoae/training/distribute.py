"""Devices: one (the default), several on one host (MirroredStrategy), several hosts
(MultiWorkerMirroredStrategy, cluster from TF_CONFIG); all TensorFlow's tf.distribute."""

from __future__ import annotations

from infoae.config import Config
from infoae.errors import ConfigError


def split_cpu(config: Config) -> None:
    """Split the CPU into train.cpu_devices logical devices (if set).

    Must run before TensorFlow places its first operation (the split is fixed from then on).
    """
    import tensorflow as tf

    if config.train.cpu_devices:
        cpus = tf.config.list_physical_devices("CPU")
        wanted = [tf.config.LogicalDeviceConfiguration()] * config.train.cpu_devices
        if tf.config.get_logical_device_configuration(cpus[0]) != wanted:
            try:
                tf.config.set_logical_device_configuration(cpus[0], wanted)
            except RuntimeError:
                raise ConfigError("train.cpu_devices must be set before TensorFlow starts; "
                                  "set it in the config or with --set, not after other "
                                  "TensorFlow work in the same process.") from None


def worker_index() -> int:
    """This process's index among the TF_CONFIG workers (0, the chief, without TF_CONFIG)."""
    import json
    import os

    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return 0
    try:
        spec = json.loads(text)
        workers = spec["cluster"]["worker"]
        index = int(spec["task"]["index"])
        if spec["task"]["type"] != "worker" or not 0 <= index < len(workers):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            "TF_CONFIG must be JSON like {\"cluster\": {\"worker\": [\"host1:port\", "
            "\"host2:port\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}} with this "
            f"host's index into the worker list; got {text!r}") from None
    return index


def strategy_for(config: Config):
    """The tf.distribute strategy of train.distribute (the default one for "none")."""
    import os

    import tensorflow as tf

    split_cpu(config)
    if config.train.distribute == "none":
        return tf.distribute.get_strategy()
    if config.train.distribute == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("train.distribute = 'multiworker' needs the TF_CONFIG environment "
                              "variable on every host (the worker list and this host's index); "
                              "see the README, 'Several devices'.")
        worker_index()  # Checks TF_CONFIG.
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(devices) < 2:
        print(f"Note: train.distribute = 'mirrored' with one device ({devices[0]}); it runs, "
              "but gains nothing.")
    return tf.distribute.MirroredStrategy(devices)
