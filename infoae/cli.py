"""The `infoae` command: train, swap, evaluate.

    infoae train --config configs/mnist.toml [--data-dir DIR] [--run-dir DIR]
                 [--set key=value ...] [--resume] [--overwrite]
    infoae swap RUN_DIR [--out grid.png] [--rows N | --style IMAGE...] [--data-dir DIR]
                [--checkpoint]
    infoae evaluate RUN_DIR [--data-dir DIR] [--checkpoint] [--set evaluate.key=value ...]
    infoae report RUN_DIR... [--out page.html] [--data-dir DIR]
    infoae compare RUN_DIR... [--out table.md]
    infoae normalise RUN_DIR --kind {gaussian,moments,none} [--prune-nats N] [--data-dir DIR]
                     [--no-evaluate]
    infoae seeds --config configs/mnist.toml --seeds 0 1 2 [--run-dir PREFIX] [--data-dir DIR]
                 [--set key=value ...] [--overwrite] [--out table.md]
    infoae transfer --method {gatys,infoae} --content IMG_OR_INDEX --style IMG_OR_INDEX
                    [--run RUN_DIR | --config CFG] [--loss-network DIR] [--out PNG]

Errors in the input (config, data, run directory, images), a run directory in use by another
command and a full disk print one line and exit with 2; --debug shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import errno
import sys
from contextlib import nullcontext
import time
from pathlib import Path

from infoae.console import start_backend

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infoae", description="Train and inspect an "
                                     "Info-autoencoder that separates style from content.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--verbose", action="store_true", help="show the libraries' start-up "
                        "messages (TensorFlow's C++ log lines are hidden by default)")
    verbs = parser.add_subparsers(dest="verb", required=True)

    train = verbs.add_parser("train", help="train a model, then evaluate it and draw a swap grid")
    train.add_argument("--config", help="TOML config file (configs/mnist.toml, ...)")
    train.add_argument("--data-dir", default="", help="local data files instead of tfds")
    train.add_argument("--run-dir", help="run directory (default outputs/<config>-<time>)")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a config key, e.g. train.epochs=3")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run")
    train.add_argument("--no-evaluate", action="store_true", help="train only")

    swap = verbs.add_parser("swap", help="draw the style/content swap grid of a run")
    swap.add_argument("run_dir")
    swap.add_argument("--out", help="PNG path (default RUN_DIR/figures/swap_grid.png)")
    swap.add_argument("--rows", type=int, default=10, help="style sources (rows)")
    swap.add_argument("--style", nargs="+", metavar="IMAGE", help="photos or scans of digits "
                      "(PNG/JPEG, any size) to take the styles from, instead of test images; "
                      "default out: RUN_DIR/figures/swap_styles.png")
    swap.add_argument("--data-dir", default=None, help="local data files instead of the run's")
    swap.add_argument("--checkpoint", action="store_true", help="use the newest checkpoint of "
                      "an unfinished run (whole code, not pruned or normalised)")

    evaluate = verbs.add_parser("evaluate", help="compute metrics; writes RUN_DIR/metrics.json")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--data-dir", default=None, help="local data files instead of the run's")
    evaluate.add_argument("--checkpoint", action="store_true", help="score the newest checkpoint "
                          "of an unfinished run (whole code, not pruned or normalised)")
    evaluate.add_argument("--set", dest="overrides", action="append", default=[],
                          metavar="evaluate.KEY=VALUE", help="score with other evaluation "
                          "settings; they replace the run's in RUN_DIR/config.toml")

    report = verbs.add_parser("report", help="a self-contained HTML report of a run "
                              "(RUN_DIR/report.html), or a page comparing several runs")
    report.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    report.add_argument("--out", help="HTML path (default RUN_DIR/report.html for one run, "
                        "outputs/compare-<time>.html for several)")
    report.add_argument("--data-dir", default=None, help="local data files instead of the run's")

    compare = verbs.add_parser("compare", help="a markdown table of evaluated runs side by side")
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    compare.add_argument("--out", help="also write the table to this file")

    normalise = verbs.add_parser("normalise", help="fit (or remove) a trained run's class "
                                 "normaliser of the style code, then evaluate it again")
    normalise.add_argument("run_dir")
    normalise.add_argument("--kind", required=True, choices=("gaussian", "moments", "none"))
    normalise.add_argument("--data-dir", default=None, help="local data files instead of the run's")
    normalise.add_argument("--prune-nats", type=float, default=None, metavar="NATS",
                           help="first prune the code again at this threshold "
                                "(model.prune_nats; 0 keeps every dimension)")
    normalise.add_argument("--no-evaluate", action="store_true", help="fit only")

    seeds = verbs.add_parser("seeds", help="train and evaluate one or more configs (methods) "
                             "with several seeds; print each metric's mean +- sd per config")
    seeds.add_argument("--config", nargs="+", default=[None], metavar="CONFIG",
                       help="TOML config file(s) (configs/mnist.toml, ..., or names: mnist "
                       "cyclevae lord); several give one table of all of them")
    seeds.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], metavar="SEED")
    seeds.add_argument("--run-dir", help="prefix of the run directories, PREFIX-seedN "
                       "(default outputs/<config>; with several configs PREFIX-<config>-seedN)")
    seeds.add_argument("--data-dir", default="", help="local data files instead of tfds")
    seeds.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a config key, e.g. train.epochs=3")
    seeds.add_argument("--overwrite", action="store_true", help="replace existing runs")
    seeds.add_argument("--out", help="also write the table to this file")

    transfer = verbs.add_parser(
        "transfer", help="style transfer of one image pair (or index ranges): Gatys et al.'s "
        "optimisation or a trained Info-autoencoder")
    transfer.add_argument("--method", choices=("gatys", "infoae"), default="gatys")
    transfer.add_argument("--content", required=True, metavar="IMG_OR_INDEX",
                          help="content image: a test-split index (3), a range (0:8) or a file")
    transfer.add_argument("--style", required=True, metavar="IMG_OR_INDEX",
                          help="style image(s), as --content; paired one to one with it")
    transfer.add_argument("--run", dest="run_dir", help="a trained run (needed for --method "
                          "infoae; for gatys it gives the dataset and its loss network)")
    transfer.add_argument("--config", help="TOML config for the dataset and the [perceptual] "
                          "and [transfer] settings (without --run)")
    transfer.add_argument("--data-dir", default=None, help="local data files")
    transfer.add_argument("--set", dest="overrides", action="append", default=[],
                          metavar="KEY=VALUE", help="override a config key, e.g. transfer.steps=200")
    transfer.add_argument("--loss-network", help="directory of the loss network (trained and "
                          "saved there when missing; default RUN/loss_network or "
                          "outputs/loss_network-DATASET)")
    transfer.add_argument("--out", help="PNG of content | style | result (default "
                          "outputs/transfer-METHOD-TIME.png)")
    return parser


def _train(args) -> None:
    from infoae.config import load_config
    from infoae.errors import InfoaeError
    from infoae.training.train import resume_config, train_and_evaluate

    if args.resume:
        if not args.run_dir:
            raise InfoaeError("--resume needs --run-dir: the run directory to continue.")
        config = resume_config(args.run_dir, args.data_dir, args.overrides)
    else:
        config = load_config(args.config, args.overrides)
        if args.data_dir:
            config.data.dir = args.data_dir
    start_backend(args.verbose, config)
    run_dir = args.run_dir or _default_run_dir(args.config)
    train_and_evaluate(config, run_dir, resume=args.resume, overwrite=args.overwrite,
                       evaluate=not args.no_evaluate)


def _default_run_dir(config_path) -> str:
    stem = Path(config_path).stem if config_path else "run"
    return str(Path("outputs") / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")


def _load(run_dir, data_dir, checkpoint=False):
    from infoae.data import load_data
    from infoae.model.trained import load_run

    run = load_run(run_dir, checkpoint=checkpoint)
    if data_dir is not None:
        run.config.data.dir = data_dir
    return run, load_data(run.config.data, run.config.train.seed)


def _swap(args) -> None:
    from infoae.errors import InfoaeError
    from infoae.figures import MAX_SWAP_ROWS, save_swap_grid, swap_grid, write_swap_grid
    from infoae.rundir import load_run_config, run_lock

    if not 1 <= args.rows <= MAX_SWAP_ROWS:
        raise InfoaeError(f"--rows must be 1..{MAX_SWAP_ROWS}, got {args.rows}; draw several "
                          "grids (--out) for more style sources.")
    if args.style and len(args.style) > MAX_SWAP_ROWS:
        raise InfoaeError(f"--style takes at most {MAX_SWAP_ROWS} images, got {len(args.style)}")
    load_run_config(args.run_dir)  # A clear line before anything is created.
    with run_lock(args.run_dir, "infoae swap") if args.out is None else nullcontext():
        if args.style:
            import numpy as np

            from infoae.model.trained import load_run
            from infoae.transfer.images import prepare_photo

            run = load_run(args.run_dir, checkpoint=args.checkpoint)
            styles = np.stack([prepare_photo(path, run.image_shape) for path in args.style])
            out = args.out or Path(args.run_dir) / "figures" / "swap_styles.png"
            grid = save_swap_grid(swap_grid(run, styles), out,
                                  "your images, as prepared (left), drawn as each class")
        else:
            run, data = _load(args.run_dir, args.data_dir, args.checkpoint)
            grid = write_swap_grid(run, data, args.out, args.rows)
    print(f"Swap grid written to {grid}")


def _evaluate(args) -> None:
    from infoae.config import save_config, section_overrides
    from infoae.evaluation.evaluate import evaluate_run, format_metrics
    from infoae.report import write_run_report
    from infoae.rundir import CONFIG_FILE, METRICS_FILE, load_run_config, run_lock

    overrides = getattr(args, "overrides", [])  # Clear lines before anything is created:
    config = section_overrides(load_run_config(args.run_dir), overrides, "evaluate")
    with run_lock(args.run_dir, "infoae evaluate"):
        run, data = _load(args.run_dir, args.data_dir, args.checkpoint)
        run.config.evaluate = config.evaluate
        report = evaluate_run(run, data=data)
        if overrides:  # The settings that metrics.json was scored with.
            save_config(config, Path(args.run_dir) / CONFIG_FILE)
        page = None if args.checkpoint else write_run_report(run, data)
    print(format_metrics(report))
    print(f"Written to {Path(args.run_dir) / METRICS_FILE}")
    if page:
        print(f"Report:  {page}  (open it in a browser)")


def _report(args) -> None:
    from infoae.report import write_report
    from infoae.rundir import load_run_config, run_lock

    for run_dir in args.run_dirs:
        load_run_config(run_dir)  # A clear line before anything is written.
    if len(args.run_dirs) == 1 and args.out is None:
        with run_lock(args.run_dirs[0], "infoae report"):
            page = write_report(args.run_dirs, None, args.data_dir)
    else:
        page = write_report(args.run_dirs, args.out, args.data_dir)
    print(f"Report written to {page}")


def _compare(args, run_dirs=None) -> None:
    from infoae.evaluation.compare import compare_table

    table = compare_table(run_dirs or args.run_dirs)
    print(table)
    if args.out:
        from infoae import atomic

        atomic.write_text(args.out, table + "\n")


def _normalise(args) -> None:
    from infoae.errors import InfoaeError
    from infoae.rundir import load_run_config, run_lock
    from infoae.training.style_code import normalise_run

    if args.prune_nats is not None and not args.prune_nats >= 0:
        raise InfoaeError(f"--prune-nats must be a number >= 0, got {args.prune_nats}")
    load_run_config(args.run_dir)  # A clear line before anything is created.
    with run_lock(args.run_dir, "infoae normalise"):
        normalise_run(args.run_dir, args.kind, args.data_dir, args.prune_nats)
    print(f"Class normaliser of {args.run_dir}: {args.kind} (config.toml and run.json updated).")
    if not args.no_evaluate:
        args.checkpoint = False
        _evaluate(args)


def _seeds(args) -> None:
    from infoae.training.seeds import train_seeds

    from infoae.config import load_config

    # Every config is read and checked before the first training starts.
    configs = [load_config(path, args.overrides) for path in args.config]
    start_backend(args.verbose, configs[0])
    run_dirs = []
    for path in args.config:
        stem = Path(path).stem if path else "run"
        if not args.run_dir:
            prefix = str(Path("outputs") / stem)
        else:
            prefix = args.run_dir if len(args.config) == 1 else f"{args.run_dir}-{stem}"
        run_dirs += train_seeds(path, args.seeds, prefix, args.overrides, args.data_dir,
                                args.overwrite)
    _compare(args, run_dirs)


def _transfer(args) -> None:
    from infoae.transfer.command import transfer

    transfer(args)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from infoae.errors import InfoaeError

    try:
        if args.verb not in ("train", "seeds", "compare"):  # Those start it after their config.
            start_backend(args.verbose)
        {"train": _train, "swap": _swap, "evaluate": _evaluate, "report": _report,
         "compare": _compare,
         "normalise": _normalise, "seeds": _seeds, "transfer": _transfer}[args.verb](args)
    except (InfoaeError, FileNotFoundError, PermissionError) as error:
        if args.debug:
            raise
        print(f"infoae {args.verb}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if args.debug or error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO):
            raise
        where = f" writing '{error.filename}'" if error.filename else ""
        print(f"infoae {args.verb}: error: {error.strerror}{where}. Files of the run directory "
              "were written atomically, so each holds its previous content; free space (or fix "
              "the disk) and run the command again (a training run: add --resume).",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        run_dir = getattr(args, "run_dir", None)
        hint = (f"; continue it with `infoae train --resume --run-dir {run_dir}`"
                if args.verb == "train" and run_dir else
                "; `infoae seeds` resumes where it stopped when run again"
                if args.verb == "seeds" else "")
        print(f"infoae {args.verb}: interrupted{hint}.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
