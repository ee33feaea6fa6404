"""Figures: the style/content swap grid, and grids of images with titled columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from infoae import atomic


def pick_style_sources(labels: np.ndarray, rows: int) -> np.ndarray:
    """Indices of test images to use as style sources: one per class first, then the next ones."""
    first_of_each = [int(np.flatnonzero(labels == d)[0]) for d in np.unique(labels)]
    chosen = set(first_of_each)
    rest = [i for i in range(len(labels)) if i not in chosen]
    return np.array((first_of_each + rest)[:rows])


def swap_grid(run, style_images: np.ndarray) -> np.ndarray:
    """(rows, 1 + classes, H, W, C): the source image, then its style drawn as every class."""
    columns = [run.check_images(style_images)]
    columns += [images for _, images in run.each_label(run.encode_style(style_images))]
    return np.stack(columns, axis=1)


def mosaic(grid: np.ndarray, gap: int = 2) -> np.ndarray:
    """A (rows, columns, H, W, C) grid as one (rows*(H+gap)-gap, columns*(W+gap)-gap, C) image,
    the cells apart by white gaps: one image to draw instead of one axes per cell."""
    rows, columns, height, width, channels = grid.shape
    out = np.ones((rows * (height + gap) - gap, columns * (width + gap) - gap, channels),
                  np.float32)
    for r in range(rows):
        for c in range(columns):
            top, left = r * (height + gap), c * (width + gap)
            out[top:top + height, left:left + width] = grid[r, c]
    return out


def draw_grid(ax, grid: np.ndarray, row_labels=None, column_labels=None, fontsize=8) -> None:
    """Draw a (rows, columns, H, W, C) grid in [0, 1] on one axes, with each column's label
    above it and each row's to its left."""
    rows, columns, height, width = grid.shape[:4]
    gap = 2
    image = mosaic(np.clip(grid, 0.0, 1.0), gap)
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0.0,
              vmax=1.0, interpolation="nearest")
    ax.xaxis.tick_top()
    ax.set_xticks([c * (width + gap) + width / 2 - 0.5 for c in range(columns)],
                  list(column_labels) if column_labels else [""] * columns, fontsize=fontsize)
    ax.set_yticks([r * (height + gap) + height / 2 - 0.5 for r in range(rows)],
                  list(row_labels) if row_labels else [""] * rows, fontsize=fontsize)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def save_image_grid(grid: np.ndarray, path: str | Path, column_titles, title: str = "") -> Path:
    """Write a (rows, columns, H, W, C) grid of images in [0, 1] as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import textwrap

    rows, columns = grid.shape[:2]
    titles = [textwrap.fill(t, 14) for t in column_titles]
    lines = max(t.count("\n") + 1 for t in titles)
    width = 1.1 if max(len(t) for t in column_titles) > 5 else 0.8
    figure, ax = plt.subplots(figsize=(columns * width, rows * 0.8 + 0.4 + 0.2 * lines))
    draw_grid(ax, grid, None, titles, fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic.replacing(path, ".png") as temporary:
            figure.savefig(temporary, dpi=100)
    finally:
        plt.close(figure)
    return path


def save_swap_grid(grid: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Write the grid as a PNG: rows are style sources, columns the source then each class."""
    return save_image_grid(grid, path, ["style"] + [str(d) for d in range(grid.shape[1] - 1)],
                           title)


# The most style sources (rows) one swap grid draws; a taller figure is not readable.
MAX_SWAP_ROWS = 100


def write_swap_grid(run, data, out: str | Path | None = None, rows: int = 10) -> Path:
    """Swap grid of a run on its test split's style sources, saved as a PNG."""
    from infoae.data import to_float
    from infoae.errors import InfoaeError

    if not 1 <= rows <= MAX_SWAP_ROWS:
        raise InfoaeError(f"a swap grid has 1..{MAX_SWAP_ROWS} rows, got {rows}")

    images, labels = data.test
    sources = pick_style_sources(labels, rows)
    grid = swap_grid(run, to_float(images[sources]))
    out = Path(out) if out else Path(run.run_dir) / "figures" / "swap_grid.png"
    return save_swap_grid(grid, out, f"{run.run_dir.name}: style (rows) x content (columns)")
