"""Put this folder first on PYTHONPATH to run Python as if TensorFlow were not installed:
importing tensorflow, tensorflow_datasets or tf_keras raises ImportError (the JAX tests)."""

import sys

BLOCKED = ("tensorflow", "tensorflow_datasets", "tf_keras")


class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: this process runs as if it were not installed")
        return None


sys.meta_path.insert(0, _NoTensorFlow())
