"""The style code after training: pruning uninformative dimensions (model.prune_nats) and the
class map (model.class_map), at the end of training or, with `infoae class-map`,
for a run trained before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from infoae.config import Config
from infoae.data import DigitData, load_data, to_float
from infoae.errors import ConfigError
from infoae.model.classifiers import predict_in_batches
from infoae.model.class_map import (MIN_CODES_PER_CLASS, ClassMap, class_map_images,
                                    class_maps_bytes)
from infoae.rundir import (CONFIG_FILE, FINAL_WEIGHTS, FORMAT_VERSION, RUN_FILE,
                           new_class_map_name, read_run_info, record, remove_unnamed_class_maps,
                           write_json)
from infoae.tables import wrap


def prune(config: Config, model, data: DigitData) -> dict | None:
    """Mask the code dimensions below model.prune_nats; returns what was kept, for run.json."""
    if not (config.model.kind == "infoae" and config.model.variational
            and config.model.prune_nats > 0):
        return None  # The field's other methods keep every dimension, as published.
    n = min(config.evaluate.probe_train_size, len(data.train[1]))
    nats = model.prune_style(to_float(data.train[0][:n]), data.train[1][:n],
                             config.model.prune_nats)
    kept = np.flatnonzero(model.style_mask).tolist()
    threshold = config.model.prune_nats
    met = bool(np.any(np.asarray(nats) >= threshold))
    if met:
        print(wrap(f"Style code: {len(kept)} of {len(nats)} dimensions carry >= {threshold} "
                   f"nats about the image and are kept: {kept}"))
    else:  # The code is never empty: the most informative dimension stays, below threshold.
        print(wrap(f"Style code: no dimension carries {threshold} nats about the image (the "
                   f"most, dimension {kept[0]}: {float(nats[kept[0]]):.4f} nats); that one is "
                   "kept alone, below the threshold. Lower model.prune_nats (0 keeps every "
                   "dimension)."))
    return {"kept": kept, "nats": [round(float(v), 4) for v in nats],
            "threshold_nats": threshold, "threshold_met": met,
            "measured_on": f"{n} training images"}


# model.class_map = "auto" fits the Gaussian map when every class has this many training
# codes to fit it on. Measured: with 4,500 codes per class (full MNIST) the map halves the
# MLP leakage and keeps swaps and reconstructions; with 50 (the 5,000-digit sample) it
# overfits, and swaps drawn through the inverse map of a class fail the judges.
AUTO_MIN_CODES_PER_CLASS = 1000


def class_map_kind(config: Config, data: DigitData) -> tuple[str, str]:
    """The kind of class map this run fits ("auto" resolved) and why, in words."""
    kind = config.model.class_map
    if kind != "auto":
        return kind, f"model.class_map = '{kind}'"
    counts = np.bincount(data.train[1][class_map_images(config, data)[0]],
                         minlength=data.num_classes)
    if counts.min() >= AUTO_MIN_CODES_PER_CLASS:
        return "gaussian", (f"model.class_map = 'auto': every class has "
                            f">= {AUTO_MIN_CODES_PER_CLASS} training codes to fit it on")
    return "none", (f"model.class_map = 'auto': class {int(counts.argmin())} has "
                    f"{int(counts.min())} training codes to fit a map on, fewer than "
                    f"{AUTO_MIN_CODES_PER_CLASS}; the code is not normalised")


def check_class_map_data(config: Config, data: DigitData) -> None:
    """ConfigError before training when the class map could not be fitted after it;
    says what "auto" resolves to."""
    kind, why = class_map_kind(config, data)
    if config.model.class_map == "auto":
        print(wrap(f"Style code: class map {kind} ({why})."))
    if kind == "none":
        return
    counts = np.bincount(data.train[1][class_map_images(config, data)[0]],
                         minlength=data.num_classes)
    if counts.min() < MIN_CODES_PER_CLASS:
        raise ConfigError(f"model.class_map = '{config.model.class_map}' needs "
                          f"{MIN_CODES_PER_CLASS} or more training images of every class; class "
                          f"{int(counts.argmin())} has {int(counts.min())}. Use more data "
                          "(data.train_limit) or model.class_map = 'none'.")


def fit_class_maps(config: Config, model, data: DigitData) -> tuple[dict, str]:
    """The class class_maps of the pruned and of the whole code (model.class_map),
    fitted on training codes with their true labels, and which images they were fitted on;
    ({}, "") when it is "none" (or "auto" resolves to "none")."""
    kind = class_map_kind(config, data)[0]
    if kind == "none":
        return {}, ""
    rows, described = class_map_images(config, data)
    images, labels = to_float(data.train[0][rows]), data.train[1][rows]
    class_maps = {}
    for part, pruned in (("kept", True), ("all", False)):
        codes = predict_in_batches(lambda x, y: model.encode_style(x, y, pruned=pruned),
                                   images, labels.astype(np.int32))
        class_maps[part] = ClassMap.fit(codes, labels, model.num_classes, kind)
    print(wrap(f"Style code: each class's codes mapped to one distribution ({kind}), fitted "
               f"on {described}."))
    return class_maps, described


def write_class_maps(run_dir: Path, info: dict, class_maps: dict, fitted_on: str = "") -> None:
    """Save the class_maps beside the weights, under a name run.json does not name yet, and
    describe them in info with their checksum (none: no map). The caller then writes info to
    run.json, the commit point, and removes the files it no longer names (commit_run_info)."""
    import hashlib

    from infoae.atomic import write_bytes

    info.pop("style_normaliser", None)  # The name older runs recorded it under.
    if not class_maps:
        info.pop("class_map", None)
        return
    content = class_maps_bytes(class_maps)
    name = new_class_map_name(info, hashlib.sha256(content).hexdigest())
    write_bytes(run_dir / name, content)
    first = next(iter(class_maps.values()))
    shape = first.arrays["knots"].shape if first.kind == "gaussian" else None  # (C, L, D, K)
    info["class_map"] = record(run_dir, name, kind=first.kind,
                               fitted_on=f"style codes and labels of {fitted_on}",
                               **({"layers": shape[1], "knots": shape[3]} if shape else {}))


def commit_run_info(run_dir: Path, info: dict) -> None:
    """Write run.json (the commit point), then remove the class map files it does not name."""
    write_json(run_dir / RUN_FILE, info)
    remove_unnamed_class_maps(run_dir, info)


def refit_class_map(run_dir: str | Path, kind: str, data_dir: str | None = None,
                  prune_nats: float | None = None) -> None:
    """Fit (or, with kind "none", remove) the class map of a trained run, and record it
    in its config.toml and run.json; the weights are not touched. prune_nats: first prune the
    code again at this threshold (model.prune_nats; 0 keeps every dimension), measured on the
    same training images as at the end of training."""
    from infoae.config import save_config, with_overrides
    from infoae.model.trained import load_run

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    overrides = [f"model.class_map={kind}"]
    if prune_nats is not None:
        overrides.append(f"model.prune_nats={prune_nats}")
    config = with_overrides(run.config, overrides)
    if data_dir is not None:
        config.data.dir = data_dir
    data = load_data(config.data, config.train.seed)
    check_class_map_data(config, data)
    info = read_run_info(run_dir)
    # A run of an older format becomes one of today's, vouching for the weights it has.
    if not isinstance(info.get("weights"), dict):
        info["weights"] = record(run_dir, FINAL_WEIGHTS)
    info.update({"format": FORMAT_VERSION, "num_classes": int(run.num_classes)})
    if prune_nats is not None:
        run.model.style_mask = np.ones(config.model.style_dim, "float32")
        style_dims = prune(config, run.model, data)
        if style_dims:
            info["style_dims"] = style_dims
        else:
            info.pop("style_dims", None)
    write_class_maps(run_dir, info, *fit_class_maps(config, run.model, data))
    commit_run_info(run_dir, info)  # The new map is the run's from here on.
    config.data.dir = run.config.data.dir
    save_config(config, run_dir / CONFIG_FILE)
