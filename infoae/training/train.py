"""Training: `train_and_evaluate(config, run_dir)` runs the whole job into one run directory.

    config -> data (train / validation / test) -> model.fit with checkpoints and logs
           -> final weights -> metrics.json (evaluate) -> figures/swap_grid.png -> summary
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from infoae import atomic
from infoae.config import Config, save_config
from infoae.data import DigitData, load_data, make_dataset, to_float, training_batches
from infoae.errors import ConfigError, RunDirError, first_line
from infoae.model.trained import Run
from infoae.rundir import (CONFIG_FILE, FINAL_WEIGHTS, FORMAT_VERSION, LOSS_NETWORK_DIR,
                           RUN_FILE, check_run_dir, has_checkpoint, latest_checkpoint,
                           library_versions, load_run_config, machine, metrics_file,
                           prepare_run_dir, read_json, read_run_info, record, run_dir_contents,
                           run_lock, write_json)
from infoae.tables import wrap
from infoae.training.distribute import split_cpu, strategy_for, worker_index
from infoae.training.style_code import (check_class_map_data, commit_run_info, fit_class_maps,
                                        prune, write_class_maps)


def _callbacks(config: Config, run_dir: Path, data: DigitData, resume: bool):
    import keras

    from infoae.training.callbacks import (AdversaryReset, DisentanglementMonitor, EpochCheckpoint,
                                           StopOnNonFinite)

    (run_dir / "logs").mkdir(exist_ok=True)
    callbacks = [StopOnNonFinite()]
    if config.model.kind == "infoae" and config.adversary.reset_epochs > 0:
        callbacks.append(AdversaryReset(config.adversary.reset_epochs, config.train.seed))
    n_monitor = min(config.train.monitor_size, len(data.validation[1]))
    if n_monitor:
        callbacks.append(DisentanglementMonitor(to_float(data.validation[0][:n_monitor]),
                                                data.validation[1][:n_monitor], config.train.seed))
    # Logs before the checkpoint: every checkpointed epoch has its row; resume cuts the log
    # back to the checkpoint's epochs (trim_log), so a repeated epoch is not logged twice.
    callbacks.append(keras.callbacks.CSVLogger(str(run_dir / "logs" / "training.csv"),
                                               append=resume))
    if _has_tensorflow():  # TensorBoard's event writer is TensorFlow's (absent on a JAX install).
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "logs" / "tensorboard"),
                                                     write_graph=False))
    callbacks.append(EpochCheckpoint(run_dir, keep=config.train.keep_checkpoints))
    return callbacks


def _has_tensorflow() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def fit(config: Config, run_dir: Path, data: DigitData,
        checkpoint: tuple[int, Path] | None = None):
    """Train the model of a run directory, or continue it from checkpoint (completed epochs,
    weights file; see resume_checkpoint); returns the model."""
    from infoae.model.autoencoder import build_model
    from infoae.model.losses import uses_loss_network

    steps_per_epoch = len(data.train[1]) // config.train.batch_size
    strategy = strategy_for(config)
    loss_network = None
    if uses_loss_network(config):
        from infoae.model.loss_network import loss_network_for

        loss_network, _ = loss_network_for(data, config.perceptual, run_dir / LOSS_NETWORK_DIR,
                                           config.train.verbose)
    if strategy.num_replicas_in_sync > 1 and config.train.batch_size % strategy.num_replicas_in_sync:
        raise ConfigError(f"train.batch_size={config.train.batch_size} must be a multiple of the "
                          f"{strategy.num_replicas_in_sync} devices of train.distribute.")
    with strategy.scope():
        model = build_model(config, data.image_shape, steps_per_epoch, loss_network,
                            data.num_classes, train_size=len(data.train[1]))
    initial_epoch = 0
    if checkpoint is not None:
        initial_epoch, weights = checkpoint
        try:
            model.load_weights(weights)
        except Exception as error:  # h5py and Keras raise several types for bad files.
            raise RunDirError(f"cannot load checkpoint '{weights}' ({first_line(error)}); start "
                              "the run again with --overwrite.") from None
        trim_log(run_dir / "logs" / "training.csv", initial_epoch)
        print(f"Resuming {run_dir} after epoch {initial_epoch} of {config.train.epochs}.")
    if initial_epoch < config.train.epochs:
        targets = model.fit_targets  # The labels (LORD: and each image's row).
        streams = model.batch_streams  # Batches side by side for groups of their own.
        train, steps = training_batches(data.train[0], targets(data.train[1]),
                                        config.train.batch_size,
                                        seed=config.train.seed + initial_epoch, streams=streams)
        validation = (make_dataset(data.validation[0], targets(data.validation[1]), 512,
                                   shuffle=False, streams=streams)
                      if len(data.validation[1]) else None)
        callbacks = _callbacks(config, run_dir, data, checkpoint is not None)
        if config.train.verbose:  # A short line per epoch instead of Keras's 30 figures.
            from infoae.training.progress import ConsoleProgress

            monitored = min(config.train.monitor_size, len(data.validation[1]))
            callbacks.insert(-1, ConsoleProgress(config.train.epochs, initial_epoch, steps,
                                                 data.num_classes, monitored=monitored))
        # The batches are shuffled already.
        model.fit(train, steps_per_epoch=steps, validation_data=validation,
                  epochs=config.train.epochs, initial_epoch=initial_epoch, verbose=0,
                  shuffle=False, callbacks=callbacks)
    model.finalise(to_float(data.train[0]), data.train[1])  # E.g. class codes, in the weights.
    atomic.save_weights(model, run_dir / FINAL_WEIGHTS, optimizer_state=False)
    return model


def trim_log(path: Path, epochs: int) -> None:
    """Cut the training CSV back to its first `epochs` epochs (atomically), so that a resumed
    run logs each epoch once."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:
        return
    header = lines[0].rstrip("\r\n").split(",")
    column = header.index("epoch") if "epoch" in header else None
    kept = [lines[0]] + [line for line in lines[1:] if column is not None and line.strip()
                         and _epoch_of(line, column) < epochs]
    if len(kept) != len(lines):
        atomic.write_text(path, "".join(kept))


def _epoch_of(line: str, column: int) -> float:
    try:
        return float(line.split(",")[column])
    except (IndexError, ValueError):
        return float("inf")


def resume_checkpoint(run_dir: Path) -> tuple[int, Path]:
    """The newest whole checkpoint of a run to resume (damaged ones are skipped, and said)."""
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None:
        raise RunDirError(f"cannot resume '{run_dir}': it has no checkpoint yet. Start a new run "
                          "with --overwrite.")
    return checkpoint


def train_and_evaluate(config: Config, run_dir: str | Path, resume: bool = False,
                       overwrite: bool = False, evaluate: bool = True) -> dict:
    """The main job: train into run_dir, then evaluate and draw the swap grid, holding the run
    directory's lock throughout (a second writer is refused).

    With resume=True, config must be the run's own (see `resume_config`).
    """
    if config.train.distribute == "multiworker" and worker_index() > 0:
        # Every worker trains (the gradients are all-reduced across them) and keeps its own
        # checkpoints beside the chief's run; the chief (worker 0) writes the run and
        # evaluates it.
        run_dir = Path(f"{run_dir}.worker-{worker_index()}")
        evaluate = False
        print(f"Worker {worker_index()}: checkpoints go to {run_dir}; worker 0 writes the run.")
    check_run_dir(run_dir, resume, overwrite)  # Before the lock creates the directory.
    created = not Path(run_dir).exists()
    try:
        with run_lock(run_dir, "infoae train"):
            return _train_and_evaluate(config, Path(run_dir), resume, overwrite, evaluate)
    except BaseException:
        # A new run that failed (or was interrupted) before its first checkpoint holds nothing
        # to continue from: leave no trace, so the same command can simply run again.
        if created and not ((Path(run_dir) / FINAL_WEIGHTS).exists()
                            or has_checkpoint(run_dir)):
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        if created and Path(run_dir).is_dir() and not run_dir_contents(Path(run_dir)):
            shutil.rmtree(run_dir, ignore_errors=True)  # Failed before writing: leave no trace.


def state_data_used(config: Config, data: DigitData) -> dict:
    """Make the config say what data was used, so that config.toml describes the run and
    loading it again (evaluate, swap, report) gives the same data: the dataset that stood in
    (the offline sample for MNIST) and the validation split's true size (capped at a fifth of
    the training split). Returns what was asked for (run.json's data_requested)."""
    requested = {"name": config.data.name, "validation_size": config.data.validation_size}
    if data.name != config.data.name:
        print(f"config.toml records data.name = {data.name!r} (the data used), not "
              f"{config.data.name!r}.")
        config.data.name = data.name
    config.data.validation_size = len(data.validation[1])
    return requested


def check_training_data(config: Config, data: DigitData) -> None:
    """Refuse data a run cannot train on or be evaluated on, before anything is written."""
    n_train = len(data.train[1])
    if n_train == 0:
        raise ConfigError(f"the {data.name} data has no training images ({data.source}); check "
                          "the data files (or data.train_limit).")
    if n_train < config.train.batch_size:
        raise ConfigError(f"train.batch_size={config.train.batch_size} is larger than the "
                          f"{n_train} training images; lower it.")
    if len(data.test[1]) == 0:
        raise ConfigError(f"the {data.name} data has no test images ({data.source}): a run is "
                          "scored on them; check the data files.")


def _train_and_evaluate(config: Config, run_dir: Path, resume: bool, overwrite: bool,
                        evaluate: bool) -> dict:
    from infoae.evaluation.evaluate import evaluate_run, format_metrics
    from infoae.figures import write_swap_grid

    started = time.time()
    split_cpu(config)
    data = load_data(config.data, config.train.seed)  # Checked before anything is written
    check_training_data(config, data)                 # (--overwrite empties the directory).
    check_class_map_data(config, data)
    requested = state_data_used(config, data)
    run_dir = prepare_run_dir(run_dir, resume, overwrite)
    if data.notice:
        print(wrap(data.notice))
    checkpoint = resume_checkpoint(run_dir) if resume else None  # Before run.json changes.
    info = read_run_info(run_dir) if resume else {}
    info.update({"format": FORMAT_VERSION, "seed": config.train.seed,
                 "versions": library_versions(), "machine": machine(), "dataset": data.name,
                 "data_source": data.source, "split_sizes": data.sizes(),
                 "image_shape": list(data.image_shape), "num_classes": int(data.num_classes),
                 "status": "training"})
    if not resume:
        info["data_requested"] = requested
    save_config(config, run_dir / CONFIG_FILE)
    write_json(run_dir / RUN_FILE, info)

    model = fit(config, run_dir, data, checkpoint)
    info["train_seconds"] = round(info.get("train_seconds", 0.0) + time.time() - started, 1)
    if (run_dir / LOSS_NETWORK_DIR / "loss_network.json").is_file():
        info["loss_network"] = read_json(run_dir / LOSS_NETWORK_DIR / "loss_network.json")
    info["status"] = "trained"
    style_dims = prune(config, model, data)  # The mask lives in run.json, not in the weights.
    if style_dims:
        info["style_dims"] = style_dims
    class_maps, fitted_on = fit_class_maps(config, model, data)  # Beside the weights.
    info["weights"] = record(run_dir, FINAL_WEIGHTS)
    write_class_maps(run_dir, info, class_maps, fitted_on)
    commit_run_info(run_dir, info)
    report = {}
    if evaluate:
        from infoae.report import write_run_report

        run = Run(run_dir, model, config, class_maps)
        run.class_map_path = run_dir / info["class_map"]["file"] if class_maps else None
        report = evaluate_run(run, data=data)
        grid = write_swap_grid(run, data)
        info["status"] = "evaluated"
        write_json(run_dir / RUN_FILE, info)
        split, page = config.evaluate.split, None
        if split == "test":  # The report page shows the test split's metrics.
            page = write_run_report(run, data, say=True)
        print(_summary(run_dir, info, format_metrics(report), grid, page, split))
    return report


def resume_config(run_dir: str | Path, data_dir: str = "", overrides=()) -> Config:
    """The config of a run to resume: its own, with only the data location changeable."""
    if overrides:
        raise RunDirError("--set cannot change a run that is resumed: it continues with the "
                          f"config saved in {Path(run_dir) / CONFIG_FILE}. Start a new run to "
                          "change settings.")
    config = load_run_config(run_dir)
    if data_dir:
        config.data.dir = data_dir
    return config


def _summary(run_dir: Path, info: dict, table: str, grid: Path, page: Path | None,
             split: str = "test") -> str:
    report = (f"Report:     {page}  (open it in a browser)" if page else
              f"Report:     none (scored on the {split} split; `infoae evaluate {run_dir}` "
              "scores the test split and writes it)")
    return wrap("\n".join([
        "", "=" * 60, f"Run: {run_dir}",
        f"Data: {info['data_source']} {info['split_sizes']}",
        f"Training time: {info['train_seconds']:.0f} s", "", table, "", report,
        f"Metrics:    {run_dir / metrics_file(split)}", f"Swap grid:  {grid}",
        f"Weights:    {run_dir / FINAL_WEIGHTS}  (checkpoints in {run_dir / 'checkpoints'})",
        f"Logs:       {run_dir / 'logs'}" + (
            f"  (tensorboard --logdir {run_dir / 'logs' / 'tensorboard'})"
            if (run_dir / "logs" / "tensorboard").is_dir() else ""),
        "=" * 60]))
