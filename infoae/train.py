"""Training: `train_and_evaluate(config, run_dir)` runs the whole job into one run directory.

    config -> data (train / validation / test) -> model.fit with checkpoints and logs
           -> final weights -> metrics.json (evaluate) -> figures/swap_grid.png -> summary
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from infoae.config import Config, save_config
from infoae.errors import ConfigError
from infoae.data import DigitData, load_data, make_dataset, to_float, training_batches
from infoae.run import (CONFIG_FILE, FINAL_WEIGHTS, LOSS_NETWORK_DIR, RUN_FILE, Run,
                        RunDirError, latest_checkpoint,
                        library_versions, load_run_config, prepare_run_dir, read_json,
                        write_json)


def _callbacks(config: Config, run_dir: Path, data: DigitData, resume: bool):
    import keras

    from infoae.callbacks import DisentanglementMonitor, EpochCheckpoint, StopOnNonFinite

    (run_dir / "logs").mkdir(exist_ok=True)
    callbacks = [StopOnNonFinite()]
    n_monitor = min(config.train.monitor_size, len(data.validation[1]))
    if n_monitor:
        callbacks.append(DisentanglementMonitor(to_float(data.validation[0][:n_monitor]),
                                                data.validation[1][:n_monitor], config.train.seed))
    # Logs before the checkpoint: every checkpointed epoch has its row. A kill between the two
    # repeats that epoch on resume (its row then appears twice).
    callbacks += [
        keras.callbacks.CSVLogger(str(run_dir / "logs" / "training.csv"), append=resume),
        keras.callbacks.TensorBoard(str(run_dir / "logs" / "tensorboard"), write_graph=False),
        EpochCheckpoint(run_dir),
    ]
    return callbacks


def split_cpu(config: Config) -> None:
    """Split the CPU into train.cpu_devices logical devices (if set).

    Must run before TensorFlow places its first operation (the split is fixed from then on).
    """
    import tensorflow as tf

    if config.train.cpu_devices:
        cpus = tf.config.list_physical_devices("CPU")
        wanted = [tf.config.LogicalDeviceConfiguration()] * config.train.cpu_devices
        if tf.config.get_logical_device_configuration(cpus[0]) != wanted:
            try:
                tf.config.set_logical_device_configuration(cpus[0], wanted)
            except RuntimeError:
                raise ConfigError("train.cpu_devices must be set before TensorFlow starts; "
                                  "set it in the config or with --set, not after other "
                                  "TensorFlow work in the same process.") from None


def worker_index() -> int:
    """This process's index among the TF_CONFIG workers (0, the chief, without TF_CONFIG)."""
    import json
    import os

    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return 0
    try:
        spec = json.loads(text)
        workers = spec["cluster"]["worker"]
        index = int(spec["task"]["index"])
        if spec["task"]["type"] != "worker" or not 0 <= index < len(workers):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            "TF_CONFIG must be JSON like {\"cluster\": {\"worker\": [\"host1:port\", "
            "\"host2:port\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}} with this "
            f"host's index into the worker list; got {text!r}") from None
    return index


def strategy_for(config: Config):
    """The tf.distribute strategy of train.distribute (the default one for "none")."""
    import os

    import tensorflow as tf

    split_cpu(config)
    if config.train.distribute == "none":
        return tf.distribute.get_strategy()
    if config.train.distribute == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("train.distribute = 'multiworker' needs the TF_CONFIG environment "
                              "variable on every host (the worker list and this host's index); "
                              "see the README, 'Several devices'.")
        worker_index()  # Checks TF_CONFIG.
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(devices) < 2:
        print(f"Note: train.distribute = 'mirrored' with one device ({devices[0]}); it runs, "
              "but gains nothing.")
    return tf.distribute.MirroredStrategy(devices)


def fit(config: Config, run_dir: Path, data: DigitData, resume: bool = False):
    """Train (or continue training) the model of a run directory; returns the model."""
    from infoae.model import build_model, uses_loss_network

    steps_per_epoch = len(data.train[1]) // config.train.batch_size
    if steps_per_epoch < 1:
        raise ConfigError(f"train.batch_size={config.train.batch_size} is larger than the "
                         f"{len(data.train[1])} training images; lower it.")
    strategy = strategy_for(config)
    loss_network = None
    if uses_loss_network(config):
        from infoae.perceptual import loss_network_for

        loss_network, _ = loss_network_for(data, config.perceptual, run_dir / LOSS_NETWORK_DIR,
                                           config.train.verbose)
    if strategy.num_replicas_in_sync > 1 and config.train.batch_size % strategy.num_replicas_in_sync:
        raise ConfigError(f"train.batch_size={config.train.batch_size} must be a multiple of the "
                          f"{strategy.num_replicas_in_sync} devices of train.distribute.")
    with strategy.scope():
        model = build_model(config, data.image_shape, steps_per_epoch, loss_network)
    initial_epoch = 0
    if resume:
        initial_epoch, weights = latest_checkpoint(run_dir)
        model.load_weights(weights)
        print(f"Resuming {run_dir} after epoch {initial_epoch} of {config.train.epochs}.")
    if initial_epoch < config.train.epochs:
        train, steps = training_batches(*data.train, config.train.batch_size,
                                        seed=config.train.seed + initial_epoch)
        validation = (make_dataset(*data.validation, 512, shuffle=False)
                      if len(data.validation[1]) else None)
        model.fit(train, steps_per_epoch=steps, validation_data=validation,
                  epochs=config.train.epochs, initial_epoch=initial_epoch,
                  verbose=config.train.verbose, callbacks=_callbacks(config, run_dir, data, resume))
    model.save_weights(run_dir / FINAL_WEIGHTS)
    return model


def _prune(config: Config, model, data: DigitData) -> dict | None:
    """Mask the code dimensions below model.prune_nats; returns what was kept, for run.json."""
    if not (config.model.variational and config.model.prune_nats > 0):
        return None
    n = min(config.evaluate.probe_train_size, len(data.train[1]))
    nats = model.prune_style(to_float(data.train[0][:n]), data.train[1][:n])
    kept = np.flatnonzero(model.style_mask).tolist()
    print(f"Style code: {len(kept)} of {len(nats)} dimensions carry >= "
          f"{config.model.prune_nats} nats about the image and are kept: {kept}")
    return {"kept": kept, "nats": [round(float(v), 4) for v in nats],
            "threshold_nats": config.model.prune_nats, "measured_on": f"{n} training images"}


def train_and_evaluate(config: Config, run_dir: str | Path, resume: bool = False,
                       overwrite: bool = False, evaluate: bool = True) -> dict:
    """The main job: train into run_dir, then evaluate and draw the swap grid.

    With resume=True, config must be the run's own (see `resume_config`).
    """
    from infoae.evaluate import evaluate_run, format_metrics
    from infoae.figures import write_swap_grid

    if config.train.distribute == "multiworker" and worker_index() > 0:
        # Every worker trains (the gradients are all-reduced across them) and keeps its own
        # checkpoints beside the chief's run; the chief (worker 0) writes the run and
        # evaluates it.
        run_dir = Path(f"{run_dir}.worker-{worker_index()}")
        evaluate = False
        print(f"Worker {worker_index()}: checkpoints go to {run_dir}; worker 0 writes the run.")
    run_dir = prepare_run_dir(run_dir, resume, overwrite)
    started = time.time()
    split_cpu(config)
    data = load_data(config.data, config.train.seed)
    if data.notice:
        print(data.notice)
    info = read_json(run_dir / RUN_FILE) if resume else {}
    info.update({"seed": config.train.seed, "versions": library_versions(),
                 "dataset": data.name, "data_source": data.source, "split_sizes": data.sizes(),
                 "image_shape": list(data.image_shape), "status": "training"})
    save_config(config, run_dir / CONFIG_FILE)
    write_json(run_dir / RUN_FILE, info)

    model = fit(config, run_dir, data, resume)
    info["train_seconds"] = round(info.get("train_seconds", 0.0) + time.time() - started, 1)
    if (run_dir / LOSS_NETWORK_DIR / "loss_network.json").is_file():
        info["loss_network"] = read_json(run_dir / LOSS_NETWORK_DIR / "loss_network.json")
    info["status"] = "trained"
    style_dims = _prune(config, model, data)  # The mask lives in run.json, not in the weights.
    if style_dims:
        info["style_dims"] = style_dims
    write_json(run_dir / RUN_FILE, info)
    report = {}
    if evaluate:
        run = Run(run_dir, model, config)
        report = evaluate_run(run_dir, run=run, data=data)
        grid = write_swap_grid(run, data)
        info["status"] = "evaluated"
        write_json(run_dir / RUN_FILE, info)
        print(_summary(run_dir, info, format_metrics(report), grid))
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


def _summary(run_dir: Path, info: dict, table: str, grid: Path) -> str:
    return "\n".join([
        "", "=" * 60, f"Run: {run_dir}",
        f"Data: {info['data_source']} {info['split_sizes']}",
        f"Training time: {info['train_seconds']:.0f} s", "", table, "",
        f"Metrics:    {run_dir / 'metrics.json'}", f"Swap grid:  {grid}",
        f"Weights:    {run_dir / FINAL_WEIGHTS}  (checkpoints in {run_dir / 'checkpoints'})",
        f"Logs:       {run_dir / 'logs'}  (tensorboard --logdir {run_dir / 'logs' / 'tensorboard'})",
        "=" * 60])
