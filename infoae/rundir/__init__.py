"""Run directories: their files, their format version, and safe reading and writing
(``files``: names, JSON, run.json, the config; ``lock``: one writer; ``checkpoints``).

A run directory holds everything needed to read, resume or reuse a run:

    config.toml            the resolved config
    run.json               seed, library versions, data source and split sizes, timings
    checkpoints/           epoch-NNN.weights.h5 (weights and both optimizers) + latest.json
                           (the index: epoch, file, size and SHA-256 of each kept checkpoint)
    .lock, .lock.owner     held by the one command writing the directory (see run_lock)
    logs/training.csv      one row per epoch (losses, validation metrics, monitor)
    logs/tensorboard/      TensorBoard event files
    model.weights.h5       the final weights
    class_map.npz          the class map of the style code, if the run has one (run.json names
                           the file; a refitted map may be class_map.<hash>.npz)
    metrics.json           written by `infoae evaluate`
    figures/swap_grid.png  written by `infoae swap`
    loss_network/          the frozen loss network of perceptual-loss runs (weights + JSON)

run.json carries the directory's format version (``format``; runs written before it was
recorded are version 1 and still load); from format 3 it vouches for the final weights and the
class map file with their SHA-256, and is the commit point of a class map refit (``vouch``).
Loading a run (``infoae.model.trained.load_run``)
rebuilds the model from config.toml and reads weights only: no code or pickle from the run
directory is ever executed.
"""

from infoae.rundir.checkpoints import (checkpoint_index, checkpoint_problem, file_digest,
                                       has_checkpoint, latest_checkpoint)
from infoae.rundir.files import (CHECKPOINT_DIR, CLASS_MAP_FILE, CONFIG_FILE, FINAL_WEIGHTS,
                                 FORMAT_VERSION, KEYS_OF_OLDER_RUNS, LATEST_FILE, LOCK_FILE,
                                 LOCK_OWNER_FILE, LOSS_NETWORK_DIR, METRICS_FILE,
                                 OLD_CLASS_MAP_FILE, RUN_FILE, VALIDATION_METRICS_FILE,
                                 class_map_file, library_versions, load_run_config, machine,
                                 metrics_file, read_json, read_metrics, read_run_info,
                                 write_json)
from infoae.rundir.lock import check_run_dir, prepare_run_dir, run_dir_contents, run_lock
from infoae.rundir.vouch import (VOUCHED_FORMAT, checked_file, new_class_map_name,
                                 not_vouched_line, record, remove_unnamed_class_maps)

__all__ = ["checkpoint_index", "checkpoint_problem", "file_digest", "has_checkpoint",
           "latest_checkpoint",
           "CHECKPOINT_DIR", "CLASS_MAP_FILE", "CONFIG_FILE", "FINAL_WEIGHTS", "FORMAT_VERSION",
           "KEYS_OF_OLDER_RUNS", "LATEST_FILE", "LOCK_FILE", "LOCK_OWNER_FILE",
           "LOSS_NETWORK_DIR", "METRICS_FILE", "OLD_CLASS_MAP_FILE", "RUN_FILE",
           "VALIDATION_METRICS_FILE", "machine", "metrics_file", "read_metrics", "VOUCHED_FORMAT",
           "checked_file",
           "new_class_map_name", "not_vouched_line", "record", "remove_unnamed_class_maps",
           "class_map_file", "library_versions", "load_run_config", "read_json",
           "read_run_info", "write_json", "check_run_dir", "prepare_run_dir", "run_dir_contents",
           "run_lock"]
