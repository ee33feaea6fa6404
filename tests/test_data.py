"""Data loaders on files the tests write, tfds' mock data, and the offline sample."""

import gzip
import time

import numpy as np
import pytest

from infoae.data import sources as data_module
from infoae.config import DataConfig
from infoae.data import (DataError, load_data, load_mnist_idx, load_mnist_sample, load_tfds,
                         make_dataset, read_idx, read_svhn_mat, training_batches)


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(directory, n_train=30, n_test=10, gz=True, dotted=False):
    rng = np.random.default_rng(0)
    arrays = {"train-images": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels": rng.integers(0, 10, n_train),
              "t10k-images": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels": rng.integers(0, 10, n_test)}
    for stem, array in arrays.items():
        kind = "idx3-ubyte" if "images" in stem else "idx1-ubyte"
        name = f"{stem}.{kind}" if dotted else f"{stem}-{kind}"
        payload = idx_bytes(array)
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (directory / name).write_bytes(payload)
    return arrays


@pytest.mark.parametrize("gz, dotted", [(True, False), (False, True)])
def test_mnist_idx_round_trip(tmp_path, gz, dotted):
    arrays = write_mnist(tmp_path, gz=gz, dotted=dotted)
    (train_x, train_y), (test_x, test_y) = load_mnist_idx(tmp_path)
    assert train_x.shape == (30, 28, 28, 1) and train_x.dtype == np.uint8
    np.testing.assert_array_equal(train_x[..., 0], arrays["train-images"])
    np.testing.assert_array_equal(test_y, arrays["t10k-labels"])


def test_idx_bad_magic_and_truncation(tmp_path):
    bad = tmp_path / "bad-idx3-ubyte"
    bad.write_bytes(b"\x12\x34\x56\x78" + bytes(100))
    with pytest.raises(DataError, match="bad magic number"):
        read_idx(bad)
    short = tmp_path / "short-idx3-ubyte"
    short.write_bytes(idx_bytes(np.zeros((5, 28, 28)))[:-10])
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_idx(short)
    broken_gz = tmp_path / "broken-idx3-ubyte.gz"
    broken_gz.write_bytes(gzip.compress(idx_bytes(np.zeros((5, 28, 28))))[:30])
    with pytest.raises(DataError, match="cannot read IDX file"):
        read_idx(broken_gz)


def test_missing_mnist_file_names_the_file(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        load_mnist_idx(tmp_path)


def write_svhn(path, n=12, seed=0):
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (32, 32, 3, n)).astype(np.uint8)
    labels = rng.integers(1, 11, (n, 1))  # SVHN stores digit 0 as label 10.
    savemat(path, {"X": images, "y": labels})
    return images, labels


def test_svhn_mat_round_trip(tmp_path):
    images, labels = write_svhn(tmp_path / "train_32x32.mat")
    write_svhn(tmp_path / "test_32x32.mat", n=5, seed=1)
    got_images, got_labels = read_svhn_mat(tmp_path / "train_32x32.mat")
    assert got_images.shape == (12, 32, 32, 3)
    np.testing.assert_array_equal(got_images[3], images[..., 3])
    np.testing.assert_array_equal(got_labels, labels[:, 0] % 10)
    assert got_labels.max() <= 9
    data = load_data(DataConfig(name="svhn", dir=str(tmp_path), validation_size=2))
    assert data.sizes() == {"train": 10, "validation": 2, "test": 5}
    assert data.image_shape == (32, 32, 3)


def test_svhn_mat_without_arrays(tmp_path):
    from scipy.io import savemat

    savemat(tmp_path / "train_32x32.mat", {"images": np.zeros((2, 2))})
    with pytest.raises(DataError, match="lacks the arrays 'X' and 'y'"):
        read_svhn_mat(tmp_path / "train_32x32.mat")
    (tmp_path / "test_32x32.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(DataError, match="cannot read SVHN file"):
        read_svhn_mat(tmp_path / "test_32x32.mat")


def test_tfds_mock_data(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(data_module, "network_available", lambda *a, **k: True)
    with tfds.testing.mock_data(num_examples=24):
        (train_x, train_y), (test_x, test_y) = load_tfds("mnist")
        svhn_train, _ = load_tfds("svhn")
    assert train_x.shape == (24, 28, 28, 1) and train_x.dtype == np.uint8
    assert test_y.min() >= 0 and test_y.max() <= 9
    assert svhn_train[0].shape == (24, 32, 32, 3)


def test_tfds_offline_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "network_available", lambda *a, **k: False)
    started = time.time()
    with pytest.raises(DataError, match="--data-dir.*mnist_sample"):
        load_tfds("mnist", str(tmp_path / "empty_tfds_dir"))
    assert time.time() - started < 60


def test_mnist_without_network_or_files_falls_back_to_the_sample_loudly(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "network_available", lambda *a, **k: False)
    data = load_data(DataConfig(name="mnist", tfds_dir=str(tmp_path / "empty_tfds_dir")))
    assert data.name == "mnist_sample" and "offline sample" in data.source
    assert "--data-dir" in data.notice and data.sizes()["test"] == 1000
    with pytest.raises(DataError, match="cannot reach the network"):  # No sample for SVHN.
        load_data(DataConfig(name="svhn", tfds_dir=str(tmp_path / "empty_tfds_dir")))


def test_offline_sample_is_balanced_and_split():
    (train_x, train_y), (test_x, test_y) = load_mnist_sample()
    assert train_x.shape == (4000, 28, 28, 1) and test_x.shape == (1000, 28, 28, 1)
    assert np.bincount(test_y).tolist() == [100] * 10
    assert train_x.max() > 200  # Real digits, not blank images.


def test_validation_is_carved_from_train_and_limit_applies():
    data = load_data(DataConfig(name="mnist_sample", validation_size=300, train_limit=1000))
    assert data.sizes() == {"train": 1000, "validation": 300, "test": 1000}
    assert "sample" in data.notice


def test_pipeline_scales_to_unit_range():
    images = np.full((10, 28, 28, 1), 255, np.uint8)
    batch_x, batch_y = next(iter(make_dataset(images, np.arange(10), 4, shuffle=True)))
    assert batch_x.shape == (4, 28, 28, 1) and float(batch_x.numpy().max()) == 1.0


def test_data_dir_that_is_not_a_directory(tmp_path):
    with pytest.raises(DataError, match="not a directory"):
        load_data(DataConfig(name="mnist", dir=str(tmp_path / "missing")))


def test_training_batches_repeat_one_reshuffled_pass_per_epoch():
    """One iterator serves every epoch (fit gets steps_per_epoch): each run of `steps` batches
    is one pass over the images in a new order, the last partial batch dropped."""
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
    dataset, steps = training_batches(images, np.arange(10), 4, seed=0)
    assert steps == 2
    iterator = iter(dataset)
    passes = []
    for _ in range(4):
        labels = np.concatenate([next(iterator)[1].numpy() for _ in range(steps)])
        assert len(labels) == 8 and len(set(labels)) == 8
        passes.append(tuple(labels))
    assert len(set(passes)) > 1
    with pytest.raises(DataError, match="fewer than one batch of 16"):
        training_batches(images, np.arange(10), 16)


def test_damaged_data_files_are_one_clear_error(tmp_path):
    """A gzip IDX file damaged anywhere in its deflate stream, an IDX header whose dimensions
    overflow, and a truncated or garbage .npz are each a DataError, never a traceback."""
    import gzip

    raw = bytes([0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(range(256)) * 12
    packed = gzip.compress(raw[:16 + 4 * 28 * 28])
    for position in range(10, len(packed) - 8):  # Every byte of the deflate stream.
        damaged = bytearray(packed)
        damaged[position] ^= 0x5A
        (tmp_path / "x.gz").write_bytes(bytes(damaged))
        try:
            read_idx(tmp_path / "x.gz")
        except DataError:
            pass
    (tmp_path / "huge").write_bytes(bytes([0, 0, 8, 4]) + b"\xff" * 16 + b"\x00" * 10)
    with pytest.raises(DataError, match="header promises"):
        read_idx(tmp_path / "huge")
    np.savez(tmp_path / "ok.npz", images=np.zeros((4, 28, 28), np.uint8), labels=np.arange(4))
    content = (tmp_path / "ok.npz").read_bytes()
    for name, damaged in (("truncated", content[: len(content) // 2]),
                          ("garbage", b"PK\x03\x04" + bytes(range(200)))):
        (tmp_path / f"{name}.npz").write_bytes(damaged)
        with pytest.raises(DataError, match="cannot read .* as an .npz file"):
            data_module.read_npz(tmp_path / f"{name}.npz")
