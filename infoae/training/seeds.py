"""`infoae seeds`: one config trained and evaluated with several seeds, summarised as mean +- sd.

Each seed gets its own run directory, PREFIX-seedN. A run that is already trained and
evaluated with the same settings is reused, an interrupted one is resumed, so the command can
be run again after a stop and only does what is missing.
"""

from __future__ import annotations

from pathlib import Path

from infoae.config import load_config
from infoae.errors import ConfigError, RunDirError
from infoae.evaluation.compare import NOT_COMPARED, SEED_KEY
from infoae.rundir import (CHECKPOINT_DIR, CONFIG_FILE, LATEST_FILE, METRICS_FILE, load_run_config,
                           read_run_info)
from infoae.training.train import resume_config, train_and_evaluate

MAX_SEED = 2**31 - 1


def _same_settings(a, b) -> bool:
    flat = [{f"{s}.{k}": v for s, values in c.to_dict().items() for k, v in values.items()
             if f"{s}.{k}" not in NOT_COMPARED | {SEED_KEY}} for c in (a, b)]
    return flat[0] == flat[1]


def _as_requested(run_dir: Path):
    """A run's config with the data settings it was asked for (config.toml states the data
    used: the offline sample for MNIST, the validation split's capped size)."""
    config = load_run_config(run_dir)
    requested = read_run_info(run_dir).get("data_requested")
    if isinstance(requested, dict):
        config.data.name = requested.get("name", config.data.name)
        config.data.validation_size = requested.get("validation_size",
                                                    config.data.validation_size)
    return config


def check_seeds(seeds) -> None:
    """A ConfigError unless seeds is a non-empty list of distinct seeds in 0..MAX_SEED."""
    if not seeds or len(set(seeds)) != len(seeds) or not all(0 <= s <= MAX_SEED for s in seeds):
        raise ConfigError(f"--seeds must be distinct integers in 0..{MAX_SEED}, got {seeds}")


def train_seeds(config_path, seeds, run_prefix, overrides=(), data_dir: str = "",
                overwrite: bool = False) -> list[Path]:
    """Train and evaluate the config once per seed (skipping runs that are done); returns the
    run directories."""
    check_seeds(seeds)
    configs = {}
    for seed in seeds:  # Every setting is checked before the first training starts.
        configs[seed] = load_config(config_path, [*overrides, f"train.seed={seed}"])
        if data_dir:
            configs[seed].data.dir = data_dir
    run_dirs = []
    for seed, config in configs.items():
        run_dir = Path(f"{run_prefix}-seed{seed}")
        run_dirs.append(run_dir)
        exists = (run_dir / CONFIG_FILE).is_file() and not overwrite
        if exists and not _same_settings(_as_requested(run_dir), config):
            raise RunDirError(f"'{run_dir}' holds a run with other settings; choose another "
                              "--run-dir prefix, or pass --overwrite to replace it.")
        if exists and (run_dir / METRICS_FILE).is_file():
            print(f"Seed {seed}: {run_dir} is trained and evaluated already; reused.")
        elif exists and (run_dir / CHECKPOINT_DIR / LATEST_FILE).is_file():
            print(f"Seed {seed}: resuming {run_dir}.")
            train_and_evaluate(resume_config(run_dir, data_dir), run_dir, resume=True)
        else:
            print(f"Seed {seed}: training {run_dir}.")
            train_and_evaluate(config, run_dir, overwrite=overwrite or run_dir.exists())
    return run_dirs

