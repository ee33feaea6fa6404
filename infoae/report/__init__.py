"""`infoae report RUN_DIR [RUN_DIR ...]`: one self-contained HTML page per run, or one page
comparing several runs.

A run's page (RUN_DIR/report.html) holds: the headline table (each figure beside its goal and
the best published one, from ``infoae.evaluation.targets``, green where the goal is met, red
where not), the training curves of every active loss and of the in-training adversary's
accuracy against chance, a swap grid and reconstructions, a traversal strip for every kept
style dimension (named by the factor whose DCI importance is largest), 2-D t-SNE embeddings
of test style codes and of the content head's outputs coloured by class, and the DCI
importance matrix. Every figure is an inline PNG: the file opens with no network and no other
file. The comparison page puts the runs' headline figures side by side with their goals (runs
that differ only in seed as mean +- sd), with each run's notice, swap grid and training curves.

Modules: common (the headline rows, inline PNGs, curves, templates), run_page, compare_page.
"""

from __future__ import annotations

import time
from pathlib import Path

from infoae import atomic
from infoae.evaluation.compare import unique_runs
from infoae.rundir import METRICS_FILE

REPORT_FILE = "report.html"


def write_report(run_dirs, out: str | Path | None = None, data_dir: str | None = None) -> Path:
    """The report of one run (RUN_DIR/report.html, or out), or the comparison page of several
    (out, default outputs/compare-<time>.html); returns its path."""
    run_dirs = [Path(d) for d in unique_runs(run_dirs)]  # A run named twice: one column.
    if len(run_dirs) == 1:
        return write_run_report(*_load(run_dirs[0], data_dir), out)
    path = Path(out or Path("outputs") / f"compare-{time.strftime('%Y%m%d-%H%M%S')}.html")
    from infoae.report.compare_page import compare_page

    return _write(path, compare_page(run_dirs))


def write_run_report(run, data, out: str | Path | None = None, say: bool = False) -> Path:
    """The report of a run already in memory (a Run of a run directory and its DigitData, as
    training and `infoae evaluate` hold them): RUN_DIR/report.html, or out. say: print what
    it is doing and, after it, its time (as the evaluation prints its stages')."""
    from infoae.report.run_page import run_page

    started = time.time()
    if say:
        print("Writing the report (traversals, t-SNE embeddings, DCI matrix)...", flush=True)
    path = _write(Path(out or run.run_dir / REPORT_FILE), run_page(run, data))
    if say:
        print(f"  report: {time.time() - started:.0f} s", flush=True)
    return path


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
