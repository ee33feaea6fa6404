"""Figures: the style/content swap grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def pick_style_sources(labels: np.ndarray, rows: int) -> np.ndarray:
    """Indices of test images to use as style sources: one per digit first, then the next ones."""
    first_of_each = [int(np.flatnonzero(labels == d)[0]) for d in range(10) if np.any(labels == d)]
    chosen = set(first_of_each)
    rest = [i for i in range(len(labels)) if i not in chosen]
    return np.array((first_of_each + rest)[:rows])


def swap_grid(run, style_images: np.ndarray) -> np.ndarray:
    """(rows, 11, H, W, C): the source image, then its style drawn as digits 0..9."""
    codes = run.encode_style(style_images)
    columns = [run.check_images(style_images)]
    for label in range(10):
        columns.append(run.generate(codes, np.full(len(codes), label)))
    return np.stack(columns, axis=1)


def save_swap_grid(grid: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Write the grid as a PNG: rows are style sources, columns the source then digits 0-9."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = grid.shape[:2]
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.8, rows * 0.8 + 0.6),
                                squeeze=False)
    for r in range(rows):
        for c in range(columns):
            image = grid[r, c]
            axes[r, c].imshow(image[..., 0] if image.shape[-1] == 1 else image,
                              cmap="gray", vmin=0.0, vmax=1.0)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title("style" if c == 0 else str(c - 1), fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def write_swap_grid(run, data, out: str | Path | None = None, rows: int = 10) -> Path:
    """Swap grid of a run on its test split's style sources, saved as a PNG."""
    from infoae.data import to_float

    images, labels = data.test
    sources = pick_style_sources(labels, rows)
    grid = swap_grid(run, to_float(images[sources]))
    out = Path(out) if out else Path(run.run_dir) / "figures" / "swap_grid.png"
    return save_swap_grid(grid, out, f"{run.run_dir.name}: style (rows) x content (columns)")
