"""A run's page (RUN_DIR/report.html): the headline table, training curves, a swap grid and
reconstructions, a traversal strip per kept style dimension, t-SNE embeddings, the DCI
importance matrix."""

from __future__ import annotations

import time

import numpy as np

from infoae.evaluation.metrics import spread_sample
from infoae.report.common import (GOAL_DATASET, curves, headline_rows, plt_module, png,
                                  template)
from infoae.rundir import METRICS_FILE, read_metrics, read_run_info


def _image_grid(images: np.ndarray, row_labels, column_labels) -> str:
    """(rows, columns, H, W, C) images in [0, 1] as one figure."""
    from infoae.figures import draw_grid

    plt = plt_module()
    rows, columns = images.shape[:2]
    figure, ax = plt.subplots(figsize=(0.75 * columns + 0.6, 0.75 * rows + 0.3))
    draw_grid(ax, images, row_labels, column_labels)
    figure.tight_layout()
    return png(figure)


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


# t-SNE's iterations: its 250 early-exaggeration ones and 250 more; the embeddings' KL divergence
# is within 5% of the default 1,000 iterations' (0.561 against 0.541 for the style codes, 0.439
# against 0.420 for the content outputs of 1,000 sample test images), in half the time.
TSNE_ITERATIONS = 500


def _embedding(run, test_images, test_labels, seed: int) -> str:
    """t-SNE of test style codes and of the content head's outputs, coloured by class."""
    from sklearn.manifold import TSNE

    plt = plt_module()
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    parts = (("style code (a class-free code shows no clusters)", run.encode_style(test_images)),
             ("content head (for contrast)", np.log(run.predict_content(test_images) + 1e-6)))
    for ax, (title, values) in zip(axes, parts):
        points = TSNE(2, init="pca", random_state=seed, perplexity=30,
                      max_iter=TSNE_ITERATIONS).fit_transform(values)
        scatter = ax.scatter(points[:, 0], points[:, 1], c=test_labels, cmap="tab10", s=4)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    figure.colorbar(scatter, ax=axes, label="class")
    return png(figure)


def _dci_heatmap(report: dict) -> str | None:
    factors = report.get("factors")
    if not factors or not factors.get("dci", {}).get("importance"):
        return None
    importance = np.asarray(factors["dci"]["importance"], float)
    plt = plt_module()
    figure, ax = plt.subplots(figsize=(1.0 + 0.7 * importance.shape[1],
                                      0.8 + 0.4 * importance.shape[0]))
    shown = ax.imshow(importance, cmap="viridis", vmin=0, aspect="auto")
    ax.set_xticks(range(len(factors["factors"])), factors["factors"], rotation=45, fontsize=8)
    ax.set_yticks(range(importance.shape[0]), [f"dim {d}" for d in factors["code_dims"]],
                  fontsize=8)
    figure.colorbar(shown, ax=ax, label="importance")
    return png(figure)


def run_page(run, data) -> str:
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
        "curves": curves(run_dir / "logs" / "training.csv", run.num_classes),
        "swap": _image_grid(grid, None, ["style"] + classes),
        "reconstruction": _image_grid(np.stack([source_images, reconstruction]),
                                      ["test", "recon."], None),
        "traversals": _traversals(run, test_images, report),
        "embedding": _embedding(run, test_images, test_labels, run.config.evaluate.seed),
        "dci": _dci_heatmap(report),
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    return template("run").render(**context)


