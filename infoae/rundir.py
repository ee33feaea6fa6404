"""Run directories: their files, their format version, and safe reading and writing.

A run directory holds everything needed to read, resume or reuse a run:

    config.toml            the resolved config
    run.json               seed, library versions, data source and split sizes, timings
    checkpoints/           epoch-NNN.weights.h5 (weights and both optimizers) + latest.json
                           (the index: epoch, file, size and SHA-256 of each kept checkpoint)
    .lock, .lock.owner     held by the one command writing the directory (see run_lock)
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

import hashlib
import json
import os
import platform
import shutil
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from infoae import atomic
from infoae.config import Config, load_config
from infoae.config.files import read_config_file
from infoae.errors import RunDirError

CONFIG_FILE = "config.toml"
RUN_FILE = "run.json"
FINAL_WEIGHTS = "model.weights.h5"
CHECKPOINT_DIR = "checkpoints"
LATEST_FILE = "latest.json"
LOSS_NETWORK_DIR = "loss_network"
METRICS_FILE = "metrics.json"
NORMALISER_FILE = "style_normaliser.npz"
LOCK_FILE = ".lock"
LOCK_OWNER_FILE = ".lock.owner"
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


def run_dir_contents(run_dir: Path) -> list[Path]:
    """What a run directory holds apart from its lock files."""
    return [path for path in run_dir.iterdir() if path.name not in (LOCK_FILE, LOCK_OWNER_FILE)]


def check_run_dir(run_dir: str | Path, resume: bool, overwrite: bool) -> Path:
    """Refuse a run directory that a new (or resumed) run cannot use; changes nothing."""
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise RunDirError("--resume and --overwrite contradict each other; pass one of them.")
    if resume:
        if not (run_dir / CHECKPOINT_DIR).is_dir():
            raise RunDirError(f"cannot resume '{run_dir}': it has no checkpoint "
                              f"({CHECKPOINT_DIR}/). Start a new run instead.")
        return run_dir
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"run directory '{run_dir}' is a file, not a directory; choose "
                          "another --run-dir.")
    if run_dir.is_dir() and run_dir_contents(run_dir):
        if not overwrite:
            raise RunDirError(f"run directory '{run_dir}' already exists. Pass --resume to "
                              "continue it, --overwrite to replace it, or --run-dir for a new one.")
        if run_dir.is_symlink():
            raise RunDirError(f"refusing to overwrite '{run_dir}': it is a symbolic link (to "
                              f"'{run_dir.resolve()}'); pass the directory itself or another "
                              "--run-dir.")
        if not (run_dir / CONFIG_FILE).is_file():
            raise RunDirError(f"refusing to overwrite '{run_dir}': it exists but is not a run "
                              f"directory (no {CONFIG_FILE}). Choose another --run-dir.")
    return run_dir


def prepare_run_dir(run_dir: str | Path, resume: bool, overwrite: bool) -> Path:
    """Check the run directory for a new run (or a resumed one) and create it; with overwrite,
    empty it (its lock, held by the caller, stays)."""
    run_dir = check_run_dir(run_dir, resume, overwrite)
    if resume:
        return run_dir
    if overwrite and run_dir.is_dir():
        for path in run_dir_contents(run_dir):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise RunDirError(f"cannot write to run directory '{run_dir}' ({error.strerror}); "
                          "choose a --run-dir you can write to.") from None
    return run_dir


@contextmanager
def run_lock(run_dir: str | Path, command: str = "infoae"):
    """Hold the run directory's exclusive lock (creating the directory if needed) while the
    block runs: a second writer gets a RunDirError naming the holder's process id. The lock is
    an OS file lock (filelock), so a holder that dies releases it and the next command takes
    it over."""
    from filelock import FileLock, Timeout

    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"run directory '{run_dir}' is a file, not a directory; choose "
                          "another --run-dir.")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(run_dir / LOCK_FILE, timeout=0)
        lock.acquire()
    except Timeout:
        raise RunDirError(f"run directory '{run_dir}' is in use by {_lock_holder(run_dir)}; wait "
                          "for it to finish (or stop it), or choose another --run-dir.") from None
    except OSError as error:
        raise RunDirError(f"cannot write to run directory '{run_dir}' ({error.strerror}); "
                          "choose a --run-dir you can write to.") from None
    try:
        try:
            atomic.write_text(run_dir / LOCK_OWNER_FILE, json.dumps(
                {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                 "since": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
        except OSError:
            pass  # The lock holds without its note (a full disk is reported by the writer).
        yield run_dir
    finally:
        if run_dir.is_dir():
            (run_dir / LOCK_OWNER_FILE).unlink(missing_ok=True)
        lock.release()


def _lock_holder(run_dir: Path) -> str:
    try:
        owner = json.loads((run_dir / LOCK_OWNER_FILE).read_text())
        return f"'{owner['command']}' (process {owner['pid']} on {owner['host']}, since {owner['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another infoae process"


# Keys whose default changed after runs were written without them: a run's config.toml lists
# every key of its version, so a missing one means the run was trained before the key existed,
# and it gets the value that version behaved as.
KEYS_OF_OLDER_RUNS = {("model", "class_normalise"): "none"}


def load_run_config(run_dir: str | Path) -> Config:
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        raise RunDirError(f"'{run_dir}' is not a run directory (no {CONFIG_FILE}); pass the "
                          "directory that `infoae train` wrote.")
    config = load_config(run_dir / CONFIG_FILE)
    written = read_config_file(run_dir / CONFIG_FILE)
    for (section, key), value in KEYS_OF_OLDER_RUNS.items():
        if key not in written.get(section, {}):
            setattr(getattr(config, section), key, value)
    return config


def file_digest(path: str | Path) -> dict:
    """Size and SHA-256 of a file, as the checkpoint index and metrics.json record them."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"size": Path(path).stat().st_size, "sha256": digest.hexdigest()}


def checkpoint_index(run_dir: str | Path) -> tuple[list[dict], str]:
    """The kept checkpoints, newest first ({"epoch", "file"[, "size", "sha256"]}), and a note
    when latest.json is missing or damaged (then the checkpoint files themselves are listed,
    newest first, without checksums)."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    note = ""
    try:
        info = json.loads((directory / LATEST_FILE).read_text())
        entries = info.get("checkpoints") or [{"epoch": info["epoch"], "file": info["file"]}]
        entries = [dict(entry, epoch=int(entry["epoch"]), file=str(entry["file"]))
                   for entry in entries]
        if all("/" not in entry["file"] for entry in entries):
            return sorted(entries, key=lambda entry: -entry["epoch"]), note
        note = f"{LATEST_FILE} names files outside {directory}"
    except FileNotFoundError:
        note = f"{LATEST_FILE} is missing"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        note = f"{LATEST_FILE} is damaged ({type(error).__name__})"
    entries = []
    for path in directory.glob("epoch-*.weights.h5"):
        number = path.name[len("epoch-"):-len(".weights.h5")]
        if number.isdigit():
            entries.append({"epoch": int(number), "file": path.name})
    return sorted(entries, key=lambda entry: -entry["epoch"]), note


def checkpoint_problem(run_dir: str | Path, entry: dict) -> str:
    """Why a checkpoint of the index cannot be used ("" when it is whole)."""
    path = Path(run_dir) / CHECKPOINT_DIR / entry["file"]
    if not path.is_file():
        return "missing"
    if "sha256" in entry:
        found = file_digest(path)
        if found["size"] != entry.get("size"):
            return f"{found['size']} bytes, the index says {entry.get('size')}"
        if found["sha256"] != entry["sha256"]:
            return "its checksum does not match the index"
        return ""
    try:
        import h5py

        with h5py.File(path, "r") as handle:
            list(handle.keys())
    except Exception as error:  # h5py raises OSError and others for damaged files.
        return f"not a readable weights file ({type(error).__name__})"
    return ""


def latest_checkpoint(run_dir: str | Path, say=print) -> tuple[int, Path] | None:
    """(completed epochs, weights file) of the newest whole checkpoint, or None when there is
    no checkpoint. Damaged ones are skipped (say() tells which); RunDirError when none is
    whole."""
    entries, note = checkpoint_index(run_dir)
    if not entries:
        return None
    skipped = [note] if note else []
    for entry in entries:
        problem = checkpoint_problem(run_dir, entry)
        if not problem:
            if skipped:
                say(f"Checkpoints of '{run_dir}': {'; '.join(skipped)}. Using "
                    f"{entry['file']} (epoch {entry['epoch']}).")
            return entry["epoch"], Path(run_dir) / CHECKPOINT_DIR / entry["file"]
        skipped.append(f"{entry['file']} is damaged ({problem})")
    raise RunDirError(f"no usable checkpoint in '{Path(run_dir) / CHECKPOINT_DIR}': "
                      f"{'; '.join(skipped)}. Start the run again with --overwrite.")
