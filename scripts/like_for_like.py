"""The like-for-like table in one command: each method's own code (row A: image only, no class
map) and the same runs through the same Gaussian class map (row B), and the shipped config
(row C: `configs/mnist.toml` as it is, whose evaluation reports its code before and after its
class map), per seed, scored on the validation split, gathered into
results/like_for_like.json and rendered into the pages that show it.

    python3 scripts/like_for_like.py --data-dir $MNIST_DIR --seeds 0 1 2 --runs outputs/lfl
    python3 scripts/like_for_like.py ... --methods infoae --dry-run     # what it would do
    python3 scripts/like_for_like.py ... --methods shipped --seeds 0    # row C

It does only what is missing, so it can be run again after a stop: a run already scored on
the validation split is reused, a trained one is scored, an interrupted one is resumed from its
last checkpoint, a missing one is trained. Row B is a copy of row A's run, mapped with
`infoae class-map --kind gaussian` and scored again. Every method's settings are checked
before the first training. Run directories: RUNS/<method's name>_s<seed> (row A or C) and
RUNS/rowB_<method's name>_s<seed>.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Each method: its config, the settings of its run (for row A: those that make its own code
# image-only and unmapped), the label of its rows and the rows it makes ("AB": its own code,
# then the same run through the Gaussian class map; "C": the shipped config as it is). The cycle-consistent VAE trains its authors' schedule
# shape (batch 64, Adam 1e-4, x0.1 at 80% of the epochs, forward and reverse cycles as
# separate steps with an optimizer and a batch each) for --cyclevae-epochs of their 100.
METHODS = {
    "infoae": {"config": "mnist", "label": "infoae", "name": "rowA_infoae",
               "overrides": ["model.style_dim=16", "model.prune_nats=0",
                             "model.conditional_encoder=false", "model.class_map=none"],
               "rows": "AB"},
    "cyclevae": {"config": "cyclevae", "label": "cyclevae (authors' schedule)",
                 "name": "cyclevae_pub_e{epochs}",
                 "overrides": ["baseline.separate_cycles=true", "train.lr_schedule=step",
                               "train.lr_step_at=[0.8]", "train.lr_step_factor=0.1",
                               "train.learning_rate=1e-4", "train.batch_size=64",
                               "train.epochs={epochs}"],
                 "rows": "AB"},
    # LORD as configs/lord.toml trains it (3 epochs of latent optimisation + 2 amortised, about
    # the time of 6 Info-autoencoder epochs), not its authors' 200 + 200 (docs/baselines.md):
    # its code is image-only and unmapped as shipped.
    "lord": {"config": "lord", "label": "LORD (configs/lord.toml: 3 + 2 epochs)",
             "name": "lord_cfg", "overrides": [], "rows": "AB"},
    "shipped": {"config": "mnist", "label": "infoae (configs/mnist.toml)", "name": "rowC_infoae",
                "overrides": [], "rows": "C"},
}
SPLIT = "validation"


def plan(methods, seeds, runs: Path, cyclevae_epochs: int, extra=()) -> list[dict]:
    """Every (method, seed) cell: its row-A and row-B run directories and overrides."""
    cells = []
    for method in methods:
        spec = METHODS[method]
        overrides = [o.format(epochs=cyclevae_epochs) for o in spec["overrides"]]
        name = spec["name"].format(epochs=cyclevae_epochs)
        for seed in seeds:
            run_a = runs / f"{name}_s{seed}"
            cells.append({"method": method, "label": spec["label"], "config": spec["config"],
                          "seed": seed, "overrides": [*overrides, *extra, f"train.seed={seed}"],
                          "rows": spec["rows"], "A": run_a, "B": runs / f"rowB_{run_a.name}"})
    return cells


def check(cells, seeds) -> None:
    """The seeds (as `infoae seeds` checks them) and every config and override are valid
    before anything is trained (one line otherwise)."""
    from infoae.config import load_config
    from infoae.errors import InfoaeError
    from infoae.training.seeds import check_seeds

    try:
        check_seeds(seeds)
    except InfoaeError as error:
        raise SystemExit(f"error: {error}") from None
    for cell in cells:
        try:
            load_config(cell["config"], cell["overrides"])
        except InfoaeError as error:
            raise SystemExit(f"error: {cell['method']}, seed {cell['seed']}: {error}") from None


def steps(cell) -> list[str]:
    """What is missing for a cell: train / resume, evaluate A, map B, evaluate B (a row-C
    cell: train / resume, evaluate C)."""
    from infoae.rundir import CHECKPOINT_DIR, LATEST_FILE, metrics_file, read_run_info

    run_a, run_b, todo = cell["A"], cell["B"], []
    if read_run_info(run_a).get("status") not in ("trained", "evaluated"):
        todo.append("resume" if (run_a / CHECKPOINT_DIR / LATEST_FILE).is_file() else "train")
    if todo or not (run_a / metrics_file(SPLIT)).is_file():  # Trained now: scored again.
        todo.append(f"evaluate {cell['rows'][0]}")
    if "B" not in cell["rows"]:
        return todo
    if todo or not (run_b / metrics_file(SPLIT)).is_file():
        todo += ["map B", "evaluate B"]
    return todo


def run_step(step: str, cell, data_dir: str) -> None:
    from infoae.cli import main
    from infoae.rundir import METRICS_FILE, metrics_file

    data = ["--data-dir", data_dir] if data_dir else []
    run_a, run_b = str(cell["A"]), str(cell["B"])
    if step == "train":
        sets = [arg for item in cell["overrides"] for arg in ("--set", item)]
        code = main(["train", "--config", cell["config"], "--run-dir", run_a, "--overwrite",
                     *data, *sets, "--no-evaluate"])
    elif step == "resume":
        code = main(["train", "--resume", "--run-dir", run_a, *data, "--no-evaluate"])
    elif step in ("evaluate A", "evaluate C"):
        code = main(["evaluate", run_a, *data, "--split", SPLIT])
    elif step == "map B":
        shutil.rmtree(run_b, ignore_errors=True)
        shutil.copytree(run_a, run_b, ignore=shutil.ignore_patterns(
            metrics_file(SPLIT), METRICS_FILE, ".lock*", "report.html", "checkpoints"))
        code = main(["class-map", run_b, "--kind", "gaussian", *data, "--no-evaluate"])
    else:
        code = main(["evaluate", run_b, *data, "--split", SPLIT])
    if code:
        raise SystemExit(f"error: {step} of {cell['method']} seed {cell['seed']} exited {code}; "
                         "run the command again to continue from there.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", choices=sorted(METHODS),
                        default=sorted(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", default="outputs/like-for-like",
                        help="folder of the run directories")
    parser.add_argument("--data-dir", default="", help="MNIST IDX files instead of tfds")
    parser.add_argument("--cyclevae-epochs", type=int, default=2,
                        help="epochs of the authors' 100 (the schedule's shape is kept)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="an override for every method (tests)")
    parser.add_argument("--results", default=str(ROOT / "results" / "like_for_like.json"))
    parser.add_argument("--into", nargs="*", default=[str(ROOT / "README.md"),
                                                      str(ROOT / "docs" / "results.md")],
                        help="pages whose table between the results file's markers is rewritten")
    parser.add_argument("--dry-run", action="store_true", help="print what is missing, do nothing")
    args = parser.parse_args(argv)
    cells = plan(args.methods, args.seeds, Path(args.runs), args.cyclevae_epochs,
                 args.overrides)
    check(cells, args.seeds)
    for cell in cells:
        todo = steps(cell)
        print(f"{cell['method']} seed {cell['seed']}: "
              + (", ".join(todo) if todo else "done (reused)"), flush=True)
        if args.dry_run:
            continue
        for step in todo:
            run_step(step, cell, args.data_dir)
    if args.dry_run:
        return 0
    from infoae.evaluation.results import add_entries, entry, render
    from scripts.results_table import render_into

    entries = [entry(cell["A" if row == "C" else row], row, cell["label"], SPLIT)
               for cell in cells for row in cell["rows"]]
    data = add_entries(args.results, entries)
    table = render(data)
    name = f"results/{Path(args.results).name}"
    for page in args.into:
        render_into(Path(page), name, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
