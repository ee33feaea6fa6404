"""The console: starting the Keras backend quietly (TensorFlow's C++ start-up lines hidden)."""

from __future__ import annotations

import os
import sys


def start_backend(verbose: bool = False, config=None) -> None:
    """Import Keras and start its backend (TensorFlow: its devices, after train.cpu_devices
    split the CPU), with the C++ start-up lines TensorFlow writes to the process's stderr
    hidden unless verbose; errors still reach the console as Python exceptions. On JAX,
    compiled programs are kept in the evaluation cache (``infoae.cache``)."""
    if verbose:
        _jax_cache()
        return
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        import keras

        _jax_cache()
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")  # E.g. its retracing warnings, meant for developers.

            if config is not None:
                from infoae.training.distribute import split_cpu

                split_cpu(config)
            # Multi-worker training configures its collective ops before any device starts.
            if config is None or config.train.distribute != "multiworker":
                tf.config.list_logical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def _jax_cache() -> None:
    """On JAX, JAX's compiled programs kept in the evaluation cache."""
    import keras

    if keras.backend.backend() == "jax":
        from infoae.cache import use_jax_compilation_cache

        use_jax_compilation_cache()
