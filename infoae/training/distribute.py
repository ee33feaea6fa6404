"""Devices: one (the default), several on one host, several hosts.

On TensorFlow: tf.distribute's MirroredStrategy and MultiWorkerMirroredStrategy (cluster from
TF_CONFIG). On JAX: "mirrored" is keras.distribution.DataParallel over the local devices;
several hosts are TensorFlow's only.
"""

from __future__ import annotations

from contextlib import nullcontext

from infoae.config import Config
from infoae.errors import ConfigError


def split_cpu(config: Config) -> None:
    """Split the CPU into train.cpu_devices logical devices (if set).

    Must run before TensorFlow places its first operation (the split is fixed from then on).
    """
    import keras

    if config.train.cpu_devices and keras.backend.backend() != "tensorflow":
        raise ConfigError("train.cpu_devices splits TensorFlow's CPU; on JAX set the environment "
                          "variable XLA_FLAGS=--xla_force_host_platform_device_count=N instead.")
    if config.train.cpu_devices:
        import tensorflow as tf

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


class Devices:
    """What training needs of a strategy on backends without tf.distribute: a scope and the
    number of replicas a batch is split over."""

    def __init__(self, replicas: int = 1):
        self.num_replicas_in_sync = replicas

    def scope(self):
        return nullcontext()


def strategy_for(config: Config):
    """The tf.distribute strategy of train.distribute (the default one for "none"); on JAX,
    Devices, after setting the Keras distribution."""
    import os

    import keras

    split_cpu(config)
    if keras.backend.backend() != "tensorflow":
        return _jax_devices(config)
    import tensorflow as tf

    if config.train.distribute == "none":
        return tf.distribute.get_strategy()
    if config.train.distribute == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("train.distribute = 'multiworker' needs the TF_CONFIG environment "
                              "variable on every host (the worker list and this host's index); "
                              "see docs/speed.md, 'Several devices'.")
        worker_index()  # Checks TF_CONFIG.
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(devices) < 2:
        print(f"Note: train.distribute = 'mirrored' with one device ({devices[0]}); it runs, "
              "but gains nothing.")
    return tf.distribute.MirroredStrategy(devices)


def _jax_devices(config: Config) -> Devices:
    import keras

    if config.train.distribute == "multiworker":
        raise ConfigError("train.distribute = 'multiworker' runs on the TensorFlow backend only; "
                          "on JAX use 'mirrored' (the devices of one host).")
    if config.train.distribute == "none":
        keras.distribution.set_distribution(None)
        return Devices(1)
    devices = keras.distribution.list_devices()
    if len(devices) < 2:
        print(f"Note: train.distribute = 'mirrored' with one device ({devices[0]}); it runs, "
              "but gains nothing.")
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return Devices(len(devices))
