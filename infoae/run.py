"""Run directories and the Python API on a trained run.

A run directory holds everything needed to read, resume or reuse a run:

    config.toml            the resolved config
    run.json               seed, library versions, data source and split sizes, timings
    checkpoints/           epoch-NNN.weights.h5 (weights and both optimizers) + latest.json
    logs/training.csv      one row per epoch (losses, validation metrics, monitor)
    logs/tensorboard/      TensorBoard event files
    model.weights.h5       the final weights
    metrics.json           written by `infoae evaluate`
    figures/swap_grid.png  written by `infoae swap`
    loss_network/          the frozen loss network of perceptual-loss runs (weights + JSON)

Loading a run rebuilds the model from config.toml and reads weights only: no code or pickle
from the run directory is ever executed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from pathlib import Path

import numpy as np

from infoae.config import Config, load_config
from infoae.errors import ImageError, RunDirError

CONFIG_FILE = "config.toml"
RUN_FILE = "run.json"
FINAL_WEIGHTS = "model.weights.h5"
CHECKPOINT_DIR = "checkpoints"
LATEST_FILE = "latest.json"
LOSS_NETWORK_DIR = "loss_network"



def library_versions() -> dict[str, str]:
    import keras
    import sklearn
    import tensorflow as tf

    import infoae

    return {"infoae": infoae.__version__, "python": sys.version.split()[0],
            "platform": platform.platform(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__}


def write_json(path: str | Path, data) -> None:
    """Write JSON atomically (a temporary file renamed into place)."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")
    os.replace(temporary, path)


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def prepare_run_dir(run_dir: str | Path, resume: bool, overwrite: bool) -> Path:
    """Check the run directory for a new run (or a resumed one) and create it."""
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise RunDirError("--resume and --overwrite contradict each other; pass one of them.")
    if resume:
        if not (run_dir / CHECKPOINT_DIR / LATEST_FILE).is_file():
            raise RunDirError(f"cannot resume '{run_dir}': it has no checkpoint "
                              f"({CHECKPOINT_DIR}/{LATEST_FILE}). Start a new run instead.")
        return run_dir
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"run directory '{run_dir}' is a file, not a directory; choose "
                          "another --run-dir.")
    if run_dir.exists() and any(run_dir.iterdir()):
        if not overwrite:
            raise RunDirError(f"run directory '{run_dir}' already exists. Pass --resume to "
                              "continue it, --overwrite to replace it, or --run-dir for a new one.")
        if not (run_dir / CONFIG_FILE).is_file():
            raise RunDirError(f"refusing to overwrite '{run_dir}': it exists but is not a run "
                              f"directory (no {CONFIG_FILE}). Choose another --run-dir.")
        shutil.rmtree(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise RunDirError(f"cannot write to run directory '{run_dir}' ({error.strerror}); "
                          "choose a --run-dir you can write to.") from None
    return run_dir


def load_run_config(run_dir: str | Path) -> Config:
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        raise RunDirError(f"'{run_dir}' is not a run directory (no {CONFIG_FILE}); pass the "
                          "directory that `infoae train` wrote.")
    return load_config(run_dir / CONFIG_FILE)


def latest_checkpoint(run_dir: str | Path) -> tuple[int, Path] | None:
    """(completed epochs, weights file) of the newest checkpoint, or None."""
    latest = Path(run_dir) / CHECKPOINT_DIR / LATEST_FILE
    if not latest.is_file():
        return None
    info = read_json(latest)
    return int(info["epoch"]), Path(run_dir) / CHECKPOINT_DIR / info["file"]


def predict_in_batches(function, *arrays, batch_size=500) -> np.ndarray:
    """function applied to aligned slices of arrays, batch by batch, as one NumPy array."""
    from keras import ops

    outputs = [ops.convert_to_numpy(function(*(a[i:i + batch_size] for a in arrays)))
               for i in range(0, len(arrays[0]), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0,))


class Run:
    """A trained run: the model and helpers on images in [0, 1] shaped like the dataset."""

    def __init__(self, run_dir: str | Path, model, config: Config):
        self.run_dir = Path(run_dir)
        self.model = model
        self.config = config
        self.image_shape = model.image_shape

    def check_images(self, images) -> np.ndarray:
        """Return images as float32 (N, H, W, C) in [0, 1], or raise a ValueError saying why not."""
        images = np.asarray(images)
        if images.shape == self.image_shape:
            images = images[None]  # One image.
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ImageError(f"images must have shape (N, {', '.join(map(str, self.image_shape))})"
                             f" for this run, got {images.shape}")
        if not np.issubdtype(images.dtype, np.floating):
            raise ImageError(f"images must be floats in [0, 1], got dtype {images.dtype}; "
                             "divide uint8 images by 255")
        images = images.astype(np.float32)
        if not np.all(np.isfinite(images)) or images.min() < 0.0 or images.max() > 1.0:
            raise ImageError("images must be finite floats in [0, 1]; divide uint8 images by 255")
        return images

    def _batched(self, function, *arrays) -> np.ndarray:
        return predict_in_batches(function, *arrays)

    def encode_style(self, images) -> np.ndarray:
        """Style codes (N, style_dim)."""
        return self._batched(self.model.encode_style, self.check_images(images))

    def predict_content(self, images) -> np.ndarray:
        """Class probabilities (N, 10) from the content head."""
        from keras import ops

        return self._batched(lambda x: ops.softmax(self.model.content_head(x)),
                             self.check_images(images))

    def generate(self, style_codes, labels) -> np.ndarray:
        """Images from style codes (N, style_dim) and digit labels (N,)."""
        codes = np.asarray(style_codes, np.float32)
        labels = np.asarray(labels).reshape(-1)
        if codes.ndim != 2 or codes.shape[1] != self.config.model.style_dim:
            raise ImageError(f"style codes must have shape (N, {self.config.model.style_dim}), "
                             f"got {codes.shape}")
        if not np.all(np.isfinite(codes)):
            raise ImageError("style codes must be finite numbers (no NaN or Inf)")
        numeric = np.issubdtype(labels.dtype, np.number) and not np.iscomplexobj(labels)
        if (len(labels) != len(codes) or not numeric or not np.all(np.isfinite(labels))
                or not np.all(labels == np.round(labels)) or not np.all((labels >= 0) & (labels <= 9))):
            raise ImageError(f"labels must be {len(codes)} integers in 0..9, one per style code; "
                             f"got {labels.size} values of dtype {labels.dtype}")
        return self._batched(self.model.generate, codes, labels.astype(np.int32))

    def swap(self, style_images, labels) -> np.ndarray:
        """The style of each image drawn as the given digit label."""
        return self.generate(self.encode_style(style_images), labels)

    def reconstruct(self, images, labels) -> np.ndarray:
        """Each image re-drawn from its own style code and its (true) label."""
        images = self.check_images(images)
        codes = self._batched(self.model.encode_style, images,
                              np.asarray(labels).reshape(-1).astype(np.int32))
        return self.generate(codes, labels)


def load_run(run_dir: str | Path, weights: str | Path | None = None) -> Run:
    """Rebuild a run's model from its config and load its final (or newest) weights."""
    from infoae.data import IMAGE_SHAPES
    from infoae.model import build_model

    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    info = read_json(run_dir / RUN_FILE) if (run_dir / RUN_FILE).is_file() else {}
    if weights is None:
        weights = run_dir / FINAL_WEIGHTS
        if not weights.is_file():
            checkpoint = latest_checkpoint(run_dir)
            if checkpoint is None:
                raise RunDirError(f"'{run_dir}' has no trained weights yet ({FINAL_WEIGHTS} or a "
                                  "checkpoint); train it first.")
            weights = checkpoint[1]
    image_shape = tuple(info.get("image_shape", IMAGE_SHAPES[config.data.name]))
    model = build_model(config, image_shape)
    try:
        model.load_weights(weights)
    except Exception as error:  # h5py and Keras raise several types for bad files.
        raise RunDirError(f"cannot load weights '{weights}': {error}") from None
    kept = info.get("style_dims", {}).get("kept")
    if kept is not None and Path(weights) == run_dir / FINAL_WEIGHTS:
        # The final model's style code keeps only these dimensions (see model.prune_nats).
        mask = np.zeros(config.model.style_dim, np.float32)
        mask[kept] = 1.0
        model.style_mask = mask
    return Run(run_dir, model, config)
