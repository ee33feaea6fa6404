"""Run directories: their files, their format version, and safe reading and writing.

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

run.json carries the directory's format version (``format``; runs written before it was
recorded are version 1 and still load). Loading a run (``infoae.model.trained.load_run``)
rebuilds the model from config.toml and reads weights only: no code or pickle from the run
directory is ever executed.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
from pathlib import Path

import numpy as np

from infoae import atomic
from infoae.config import Config, load_config
from infoae.errors import RunDirError

CONFIG_FILE = "config.toml"
RUN_FILE = "run.json"
FINAL_WEIGHTS = "model.weights.h5"
CHECKPOINT_DIR = "checkpoints"
LATEST_FILE = "latest.json"
LOSS_NETWORK_DIR = "loss_network"
METRICS_FILE = "metrics.json"
NORMALISER_FILE = "style_normaliser.npz"
# The run directory format this code writes; it reads this one and every older one.
# 1: before run.json recorded a format (and the number of classes: 10).
# 2: run.json records "format" and "num_classes"; style_normaliser.npz may hold the class
#    normaliser of the style code (described in run.json's "style_normaliser").
FORMAT_VERSION = 2



def library_versions() -> dict[str, str]:
    """Versions of Python, the platform and the libraries a run depends on."""
    import importlib.metadata

    import keras

    import infoae

    versions = {"infoae": infoae.__version__, "python": sys.version.split()[0],
                "platform": platform.platform(), "keras": keras.__version__,
                "keras_backend": keras.backend.backend(), "numpy": np.__version__}
    for package in ("tensorflow", "jax", "scikit-learn"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def write_json(path: str | Path, data) -> None:
    """Write JSON atomically (a temporary file renamed into place)."""
    atomic.write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def read_json(path: str | Path):
    """The JSON content of a file, or a RunDirError naming the file when it is not JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunDirError(f"'{path}' is not valid JSON ({error}); the file is damaged. Restore "
                          "it, or train the run again.") from None


def read_run_info(run_dir: str | Path) -> dict:
    """run.json of a run directory ({} when there is none), checked for its format version."""
    path = Path(run_dir) / RUN_FILE
    if not path.is_file():
        return {}
    info = read_json(path)
    if not isinstance(info, dict):
        raise RunDirError(f"'{path}' must hold a JSON object; the file is damaged.")
    version = info.get("format", 1)
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise RunDirError(f"'{run_dir}' is a run directory of format {version!r}, newer than "
                          f"this infoae reads (1..{FORMAT_VERSION}); upgrade infoae to load it.")
    return info


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

