"""A run directory's files: their names, the format version, JSON and run.json, the config."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np

from infoae import atomic
from infoae.config import Config, load_config
from infoae.config.files import read_config_file
from infoae.errors import RunDirError
from infoae.version import __version__

CONFIG_FILE = "config.toml"
RUN_FILE = "run.json"
FINAL_WEIGHTS = "model.weights.h5"
CHECKPOINT_DIR = "checkpoints"
LATEST_FILE = "latest.json"
LOSS_NETWORK_DIR = "loss_network"
METRICS_FILE = "metrics.json"
# Metrics of the validation split (evaluate --split validation), for choosing settings.
VALIDATION_METRICS_FILE = "metrics.validation.json"
CLASS_MAP_FILE = "class_map.npz"
# The class map's file name in runs written before it was called the class map (still read).
OLD_CLASS_MAP_FILE = "style_normaliser.npz"
LOCK_FILE = ".lock"
LOCK_OWNER_FILE = ".lock.owner"
# The run directory format this code writes; it reads this one and every older one.
# 1: before run.json recorded a format (and the number of classes: 10).
# 2: run.json records "format" and "num_classes"; class_map.npz (style_normaliser.npz in runs
#    written before the rename) may hold the class map of the style code (described in
#    run.json's "class_map", formerly "style_normaliser").
# 3: run.json vouches for the final weights ("weights") and the class map file ("class_map":
#    kind, file, size, SHA-256); only the class map file it names is read (rundir/vouch.py).
FORMAT_VERSION = 3



def metrics_file(split: str = "test") -> str:
    """The metrics file of a scored split: metrics.json for the test split."""
    return METRICS_FILE if split == "test" else VALIDATION_METRICS_FILE


def read_metrics(path: str | Path) -> dict:
    """A metrics file (metrics.json or metrics.validation.json), or a RunDirError saying how to
    write it again when it is not a JSON object with the metrics in it."""
    path = Path(path)
    report = read_json(path)
    if not isinstance(report, dict) or not isinstance(report.get("metrics"), dict):
        raise RunDirError(f"'{path}' is damaged (not a metrics report); write it again with "
                          f"`infoae evaluate {path.parent}`.")
    return report


def machine() -> dict:
    """The machine and source a run was made with: CPU model and flags that matter for speed,
    cores, and the git commit of the infoae source (None outside a git checkout; "+dirty"
    when it has uncommitted changes)."""
    import os
    import subprocess

    cpu, flags = "", set()
    try:  # Linux names the CPU's model here; platform.processor() gives only the architecture.
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not cpu:
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    cpu = cpu or platform.processor()
    commit = None
    source = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        if head.returncode == 0:
            dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain",
                                    "--untracked-files=no"], capture_output=True, text=True,
                                   timeout=10).stdout.strip()
            commit = head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(),
            "cpu_flags": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16"}),
            "commit": commit}


def library_versions() -> dict[str, str]:
    """Versions of Python, the platform and the libraries a run depends on."""
    import importlib.metadata

    import keras

    versions = {"infoae": __version__, "python": sys.version.split()[0],
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
    for key, (valid, expected) in RUN_INFO_FIELDS.items():
        if key in info and not valid(info[key]):
            raise RunDirError(f"'{path}' records {key} = {ascii(info[key])[:60]}, which must be "
                              f"{expected}; the file is damaged. Restore it, or train the run "
                              "again.")
    return info


def _count(value, least: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


# The fields of run.json that code reads, and what each must be (any format).
RUN_INFO_FIELDS = {
    "num_classes": (lambda v: _count(v, 2), "an integer >= 2"),
    "image_shape": (lambda v: isinstance(v, list) and len(v) == 3
                    and all(_count(side, 1) for side in v), "a list of 3 positive integers"),
    "split_sizes": (lambda v: isinstance(v, dict) and bool(v)
                    and all(_count(n) for n in v.values()),
                    "an object of split names to image counts"),
    "style_dims": (lambda v: isinstance(v, dict) and isinstance(v.get("kept"), list)
                   and all(_count(d) for d in v["kept"]), "an object with a list 'kept' of "
                   "dimension indices"),
    "seed": (_count, "an integer >= 0"),
    "weights": (lambda v: isinstance(v, dict), "an object (file, size, sha256)"),
    "class_map": (lambda v: isinstance(v, dict), "an object (kind, file, size, sha256)"),
}


# Keys whose default changed after runs were written without them: a run's config.toml lists
# every key of its version, so a missing one means the run was trained before the key existed,
# and it gets the value that version behaved as.
KEYS_OF_OLDER_RUNS = {("model", "class_map"): "none"}


def class_map_file(run_dir: str | Path) -> Path | None:
    """The run's class map file (today's name, or the name older runs wrote), if it has one."""
    for name in (CLASS_MAP_FILE, OLD_CLASS_MAP_FILE):
        if (Path(run_dir) / name).is_file():
            return Path(run_dir) / name
    return None


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
