"""Digit datasets as NumPy arrays, and the pipeline that feeds them to Keras.

- ``infoae.data.sources``: tfds, MNIST IDX files, SVHN .mat files, the offline sample, .npz
  files of one's own;
- ``infoae.data.syndigits``: rendered colour digits with known style factors;
- ``infoae.data.splits``: ``load_data`` -> ``DigitData`` (train / validation / test);
- ``infoae.data.pipeline``: ``to_float``, ``training_batches``, ``make_dataset``.
"""

from infoae.data.pipeline import make_dataset, to_float, training_batches
from infoae.data.sources import (load_mnist_idx, load_mnist_sample, load_npz, load_svhn_mat,
                                 load_tfds, read_idx, read_svhn_mat)
from infoae.data.splits import (IMAGE_SHAPES, SCORED_SPLITS, DigitData, load_data,
                                 scored_split)
from infoae.errors import DataError

__all__ = ["DataError", "DigitData", "IMAGE_SHAPES", "SCORED_SPLITS", "load_data",
           "load_mnist_idx", "load_mnist_sample", "load_npz", "load_svhn_mat", "load_tfds",
           "make_dataset", "read_idx", "read_svhn_mat", "scored_split", "to_float",
           "training_batches"]
