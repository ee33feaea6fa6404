"""`infoae report RUN_DIR [RUN_DIR ...]`: one self-contained HTML page per run, or one page
comparing several runs.

A run's page (RUN_DIR/report.html) holds: the headline table (each figure beside its goal and
the best published one, from ``infoae.evaluation.targets``, green where the goal is met, red
where not), the training curves of every active loss and of the in-training adversary's
accuracy against chance, a swap grid and reconstructions, a traversal strip for every kept
style dimension (named by the factor whose DCI importance is largest), 2-D t-SNE embeddings
of test style codes and of the content head's outputs coloured by class, and the DCI
importance matrix. Every figure is an inline PNG: the file opens with no network and no other
file. The comparison page puts the runs' headline figures side by side (runs that differ only
in seed as mean +- sd).
"""

from __future__ import annotations

import base64
import csv
import io
import time
from pathlib import Path

import numpy as np

from infoae import atomic
from infoae.evaluation.compare import group_row, seed_groups, unique_runs
from infoae.evaluation.metrics import spread_sample
from infoae.evaluation.targets import HEADLINE, meets, value_at
from infoae.rundir import METRICS_FILE, read_metrics, read_run_info

REPORT_FILE = "report.html"
# The goals of full-size datasets, shown (marked) for their samples too.
GOAL_DATASET = {"mnist_sample": "mnist"}


def write_report(run_dirs, out: str | Path | None = None, data_dir: str | None = None) -> Path:
    """The report of one run (RUN_DIR/report.html, or out), or the comparison page of several
    (out, default outputs/compare-<time>.html); returns its path."""
    run_dirs = [Path(d) for d in unique_runs(run_dirs)]  # A run named twice: one column.
    if len(run_dirs) == 1:
        return write_run_report(*_load(run_dirs[0], data_dir), out)
    path = Path(out or Path("outputs") / f"compare-{time.strftime('%Y%m%d-%H%M%S')}.html")
    return _write(path, _compare_page(run_dirs))


def write_run_report(run, data, out: str | Path | None = None) -> Path:
    """The report of a run already in memory (a Run of a run directory and its DigitData, as
    training and `infoae evaluate` hold them): RUN_DIR/report.html, or out."""
    return _write(Path(out or run.run_dir / REPORT_FILE), _run_page(run, data))


def _write(path: Path, page: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, page)
    return path


def _load(run_dir: Path, data_dir: str | None):
    """The Run and the data of an evaluated run directory."""
    from infoae.errors import RunDirError
    from infoae.model.trained import load_run_with_data

    if not (run_dir / METRICS_FILE).is_file():
        raise RunDirError(f"'{run_dir}' has no {METRICS_FILE}; run `infoae evaluate {run_dir}` "
                          "first.")
    return load_run_with_data(run_dir, data_dir)


# ---------------------------------------------------------------- the headline table

def _fmt(value, percent: bool) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return f"{_fmt(value[0], percent)} ± {_fmt(value[1], percent)}"
    return f"{100 * value:.2f}%" if percent else (f"{value:.1f}" if abs(value) >= 100
                                                  else f"{value:.4f}")


def headline_rows(report: dict, dataset: str) -> list[dict]:
    """The headline figures of one metrics.json: label, value, goal, published, status."""
    rows = []
    goals_of = GOAL_DATASET.get(dataset, dataset)
    for item in HEADLINE:
        value = value_at(report, item.path)
        if value is None:
            continue
        goal = item.goals.get(goals_of)
        status = "" if goal is None else ("met" if meets(item, value, goal) else "missed")
        rows.append({"label": item.label, "value": _fmt(value, item.percent),
                     "goal": "-" if goal is None else
                     f"{'≥' if item.higher else '≤'} {_fmt(goal, item.percent)}",
                     "published": "-" if item.published is None else
                     f"{_fmt(item.published[0], item.percent)} ({item.published[1]})",
                     "status": status})
    return rows


# ---------------------------------------------------------------- figures

def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curves(csv_path: Path, num_classes: int) -> str | None:
    """Every active loss per epoch (training solid, validation dashed) and the adversary's
    accuracy against chance."""
    from infoae.model.losses import TERMS

    if not csv_path.is_file():
        return None
    with open(csv_path) as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return None
    epochs = [int(float(r["epoch"])) + 1 for r in rows]
    names = [t.name for t in TERMS if t.name in rows[0]] + ["adversary_acc"]
    plt = _plt()
    columns = 4
    figure, axes = plt.subplots(-(-len(names) // columns), columns,
                                figsize=(3.2 * columns, 2.4 * -(-len(names) // columns)),
                                squeeze=False)
    for ax, name in zip(axes.flat, names):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + name in rows[0]:
                ax.plot(epochs, [float(r[prefix + name]) for r in rows], style,
                        label="validation" if prefix else "training")
        if name == "adversary_acc":
            ax.axhline(1.0 / num_classes, color="grey", lw=0.8, label="chance")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    figure.tight_layout()
    return _png(figure)


def _image_grid(images: np.ndarray, row_labels, column_labels) -> str:
    """(rows, columns, H, W, C) images in [0, 1] as one figure."""
    plt = _plt()
    rows, columns = images.shape[:2]
    figure, axes = plt.subplots(rows, columns, figsize=(0.75 * columns + 0.6, 0.75 * rows + 0.3),
                                squeeze=False)
    for r in range(rows):
        for c in range(columns):
            image = images[r, c]
            axes[r, c].imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray",
                              vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0 and column_labels:
                axes[r, c].set_title(column_labels[c], fontsize=8)
        if row_labels:
            axes[r, 0].set_ylabel(row_labels[r], fontsize=8, rotation=0, ha="right", va="center")
    figure.subplots_adjust(wspace=0.05, hspace=0.05)
    return _png(figure)


def _traversals(run, test_images, report: dict) -> list[dict]:
    """For each kept dimension: the code of a typical test image with that dimension swept
    over its 5th to 95th percentile, drawn as three digits."""
    codes = run.encode_style(test_images)
    kept = np.flatnonzero(run.model.style_mask)
    factors = report.get("factors", {})
    names = factors.get("factors", [])
    importance = np.asarray(factors.get("dci", {}).get("importance", []), float)
    dims = list(factors.get("code_dims", []))
    base = np.median(codes, axis=0)
    digits = [d for d in (2, 5, 8) if d < run.num_classes] or [0]
    strips = []
    for dim in kept:
        low, high = np.percentile(codes[:, dim], [5, 95])
        sweep = np.repeat(base[None], 7, axis=0)
        sweep[:, dim] = np.linspace(low, high, 7)
        grid = np.stack([run.generate(sweep, np.full(7, digit)) for digit in digits])
        name = "no factor measured"
        if dim in dims and importance.size:
            row = importance[dims.index(dim)]
            name = (f"{names[int(np.argmax(row))]} (DCI importance {row.max():.2f})"
                    if row.max() >= 0.2 else "no single factor (DCI importance < 0.2)")
        strips.append({"dim": int(dim), "name": name,
                       "image": _image_grid(grid, [str(d) for d in digits],
                                            [f"{v:+.2f}" for v in sweep[:, dim]])})
    return strips


def _embedding(run, test_images, test_labels, seed: int) -> str:
    """t-SNE of test style codes and of the content head's outputs, coloured by class."""
    from sklearn.manifold import TSNE

    plt = _plt()
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    parts = (("style code (a class-free code shows no clusters)", run.encode_style(test_images)),
             ("content head (for contrast)", np.log(run.predict_content(test_images) + 1e-6)))
    for ax, (title, values) in zip(axes, parts):
        points = TSNE(2, init="pca", random_state=seed, perplexity=30).fit_transform(values)
        scatter = ax.scatter(points[:, 0], points[:, 1], c=test_labels, cmap="tab10", s=4)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    figure.colorbar(scatter, ax=axes, label="class")
    return _png(figure)


def _dci_heatmap(report: dict) -> str | None:
    factors = report.get("factors")
    if not factors or not factors.get("dci", {}).get("importance"):
        return None
    importance = np.asarray(factors["dci"]["importance"], float)
    plt = _plt()
    figure, ax = plt.subplots(figsize=(1.0 + 0.7 * importance.shape[1],
                                      0.8 + 0.4 * importance.shape[0]))
    shown = ax.imshow(importance, cmap="viridis", vmin=0, aspect="auto")
    ax.set_xticks(range(len(factors["factors"])), factors["factors"], rotation=45, fontsize=8)
    ax.set_yticks(range(importance.shape[0]), [f"dim {d}" for d in factors["code_dims"]],
                  fontsize=8)
    figure.colorbar(shown, ax=ax, label="importance")
    return _png(figure)


# ---------------------------------------------------------------- pages

def _run_page(run, data) -> str:
    from infoae.data import to_float
    from infoae.figures import pick_style_sources, swap_grid

    run_dir = run.run_dir
    report = read_metrics(run_dir / METRICS_FILE)
    info = read_run_info(run_dir)
    rows = spread_sample(len(data.test[1]), 1000, run.config.evaluate.seed)
    test_images, test_labels = to_float(data.test[0][rows]), data.test[1][rows]
    sources = pick_style_sources(data.test[1], 10)
    source_images = to_float(data.test[0][sources])
    grid = swap_grid(run, source_images)
    reconstruction = run.reconstruct(source_images, data.test[1][sources])
    classes = [str(c) for c in range(run.num_classes)]
    context = {
        "title": f"infoae run {run_dir.name}", "run": str(run_dir), "dataset": data.name,
        "source": data.source, "seed": info.get("seed"), "notice": data.notice,
        "versions": ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items()
                              if k in ("infoae", "keras", "keras_backend", "tensorflow", "jax")),
        "scored": report.get("scored", {}),
        "goal_note": (f"goals are those of {GOAL_DATASET[data.name]} (full size); this run "
                      "used a sample" if data.name in GOAL_DATASET else ""),
        "headline": headline_rows(report, data.name),
        "curves": _curves(run_dir / "logs" / "training.csv", run.num_classes),
        "swap": _image_grid(grid, None, ["style"] + classes),
        "reconstruction": _image_grid(np.stack([source_images, reconstruction]),
                                      ["test", "recon."], None),
        "traversals": _traversals(run, test_images, report),
        "embedding": _embedding(run, test_images, test_labels, run.config.evaluate.seed),
        "dci": _dci_heatmap(report),
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    return _template("run").render(**context)


def _compare_page(run_dirs) -> str:
    groups = seed_groups(run_dirs)
    columns, labels = [], {}
    for group in groups:
        reports = [read_metrics(Path(d) / METRICS_FILE) for d in group]
        name = group_row(group)["run"]
        columns.append(name)
        for item in HEADLINE:
            values = [value_at(r, item.path) for r in reports]
            if any(v is None for v in values):
                continue
            value = values[0] if len(values) == 1 else (float(np.mean(values)),
                                                         float(np.std(values, ddof=1)))
            labels.setdefault(item.label, {})[name] = _fmt(value, item.percent)
    table = [{"label": label, "cells": [cells.get(c, "-") for c in columns]}
             for label, cells in labels.items()]
    return _template("compare").render(title="infoae: runs compared", columns=columns,
                                       table=table, runs=[str(d) for d in run_dirs],
                                       created=time.strftime("%Y-%m-%d %H:%M:%S"))


def _template(name: str):
    import jinja2

    environment = jinja2.Environment(loader=jinja2.PackageLoader("infoae", "templates"),
                                     autoescape=jinja2.select_autoescape(["html"]))
    return environment.get_template(f"{name}.html")
