"""A dataset of one's own (data.name = "npz"): any image size, any number of classes."""

import json

import numpy as np
import pytest

import infoae
from infoae.cli import main
from infoae.config import DataConfig
from infoae.data import DataError, load_data

from tests.helpers import TINY_HEAD, sets


def _bars(count: int, classes: int, size: int, seed: int):
    """Grey images of one bright bar whose angle is the class, at a random place and width."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % classes
    rows, cols = np.mgrid[:size, :size] - size / 2
    images = np.zeros((count, size, size), np.uint8)
    for i, label in enumerate(labels):
        angle = np.pi * label / classes
        dy, dx = rng.uniform(-size / 8, size / 8, 2)
        distance = np.abs((rows - dy) * np.cos(angle) - (cols - dx) * np.sin(angle))
        along = np.abs((rows - dy) * np.sin(angle) + (cols - dx) * np.cos(angle))
        images[i] = 255 * ((distance < rng.uniform(1.0, 4.0)) & (along < size / 3))
    return images, labels


def _write(directory, classes=26, size=64, train=520, test=260):
    directory.mkdir(exist_ok=True)
    for name, count, seed in (("train", train, 0), ("test", test, 1)):
        images, labels = _bars(count, classes, size, seed)
        np.savez(directory / f"{name}.npz", images=images, labels=labels)
    return directory


@pytest.mark.slow
def test_26_classes_of_64x64_images_train_evaluate_and_swap(tmp_path):
    data_dir, run_dir = _write(tmp_path / "data"), tmp_path / "run"
    overrides = ["data.name=npz", f"data.dir={data_dir}", "data.validation_size=52",
                 "train.epochs=3", "train.batch_size=32", "train.verbose=0",
                 "train.monitor_size=52", "model.encoder_filters=[8, 16, 16]",
                 "model.generator_filters=[16, 16, 8]", "model.encoder_dense=32",
                 "evaluate.judge_epochs=1", "evaluate.probe_train_size=300",
                 "evaluate.swap_size=26", *TINY_HEAD]
    assert main(["train", "--run-dir", str(run_dir), *sets(overrides)]) == 0
    info = json.loads((run_dir / "run.json").read_text())
    assert info["num_classes"] == 26 and info["image_shape"] == [64, 64, 1]
    report = json.loads((run_dir / "metrics.json").read_text())
    assert report["num_classes"] == 26 and report["n"]["swap_images"] == 26 * 26
    run = infoae.load_run(run_dir)
    images = np.load(data_dir / "test.npz")["images"][:4, ..., None] / 255.0
    assert run.predict_content(images).shape == (4, 26)
    swapped = run.generate(run.encode_style(images), [25, 0, 13, 7])
    assert swapped.shape == (4, 64, 64, 1) and 0.0 <= swapped.min() <= swapped.max() <= 1.0
    with pytest.raises(infoae.errors.ImageError, match="0..25"):
        run.generate(run.encode_style(images[:1]), [26])
    log = (run_dir / "logs" / "training.csv").read_text().splitlines()
    header, first, last = log[0].split(","), log[1].split(","), log[-1].split(",")
    column = header.index("reconstruction")
    assert float(last[column]) < float(first[column])  # It learns.


@pytest.mark.parametrize("change, message", [
    ({"labels": np.full(10, -1)}, "class numbers 0..K-1"),
    ({"images": np.zeros((10, 4, 4), np.uint8)}, "sides 8..256"),
    ({"images": np.zeros((10, 16, 16), np.float32)}, "must be uint8"),
    ({"labels": np.zeros(9, np.int64)}, "10 integers, one per image"),
])
def test_bad_npz_files_are_one_clear_error(tmp_path, change, message):
    arrays = {"images": np.zeros((10, 16, 16), np.uint8), "labels": np.arange(10) % 2, **change}
    for name in ("train", "test"):
        np.savez(tmp_path / f"{name}.npz", **arrays)
    with pytest.raises(DataError, match=message):
        load_data(DataConfig(name="npz", dir=str(tmp_path)))


def test_npz_classes_must_all_be_in_train(tmp_path):
    np.savez(tmp_path / "train.npz", images=np.zeros((4, 16, 16), np.uint8),
             labels=np.array([0, 2, 0, 2]))
    np.savez(tmp_path / "test.npz", images=np.zeros((2, 16, 16), np.uint8), labels=np.array([0, 1]))
    with pytest.raises(DataError, match=r"missing from train.npz: \[1\]"):
        load_data(DataConfig(name="npz", dir=str(tmp_path)))
    with pytest.raises(DataError, match="needs --data-dir"):
        load_data(DataConfig(name="npz"))
