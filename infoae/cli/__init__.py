"""The `infoae` command, one module per verb (each adds its parser and runs it).

    infoae train --config configs/mnist.toml [--data-dir DIR] [--run-dir DIR]
                 [--set key=value ...] [--resume] [--overwrite]
    infoae swap RUN_DIR [--out grid.png] [--rows N | --style IMAGE...] [--data-dir DIR]
                [--checkpoint]
    infoae evaluate RUN_DIR [--data-dir DIR] [--checkpoint] [--split validation] [--no-report]
                    [--set evaluate.key=value ...]
    infoae report RUN_DIR... [--out page.html] [--data-dir DIR]
    infoae compare RUN_DIR... [--out table.md]
    infoae class-map RUN_DIR --kind {gaussian,moments,none} [--prune-nats N] [--data-dir DIR]
                     [--no-evaluate]
    infoae seeds --config configs/mnist.toml --seeds 0 1 2 [--run-dir PREFIX] [--data-dir DIR]
                 [--set key=value ...] [--overwrite] [--out table.md]
    infoae transfer --method {gatys,infoae} --content IMG_OR_INDEX --style IMG_OR_INDEX
                    [--run RUN_DIR | --config CFG] [--loss-network DIR] [--out PNG]

- ``train``: train, seeds; ``runs``: swap, evaluate, class-map; ``pages``: report, compare;
  ``transfer``: transfer.

Errors in the input (config, data, run directory, images), a run directory in use by another
command and a full disk print one line and exit with 2; --debug shows the traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

from infoae.cli import pages, runs, train, transfer
from infoae.console import start_backend

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VERB_MODULES = (train, runs, pages, transfer)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infoae", description="Train and inspect an "
                                     "Info-autoencoder that separates style from content.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--verbose", action="store_true", help="show the libraries' start-up "
                        "messages (TensorFlow's C++ log lines are hidden by default)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for module in VERB_MODULES:
        module.add_parsers(verbs)
    return parser


def _runner(verb: str):
    for module in VERB_MODULES:
        if verb in module.VERBS:
            return module.VERBS[verb]
    raise KeyError(verb)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from infoae.errors import InfoaeError

    try:
        _early_checks(args)  # Argument errors come before Keras is imported (seconds).
        if args.verb not in ("train", "seeds", "compare"):  # Those start it after their config.
            start_backend(args.verbose)
        _runner(args.verb)(args)
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
        print(f"infoae {args.verb}: interrupted{_interrupt_hint(args)}.", file=sys.stderr)
        return 130
    return 0


def _early_checks(args) -> None:
    """Every check of the arguments that needs no backend, before anything is created: a data
    directory that is not there, a run directory that is not one, swap's rows and styles,
    class-map's pruning threshold."""
    from pathlib import Path

    from infoae.errors import InfoaeError
    from infoae.figures import MAX_SWAP_ROWS
    from infoae.rundir import load_run_config

    data_dir = getattr(args, "data_dir", None)
    if data_dir and not Path(data_dir).is_dir():
        raise InfoaeError(f"--data-dir '{data_dir}' is not a directory; give the folder that "
                          "holds the data files.")
    if args.verb == "swap" and not 1 <= args.rows <= MAX_SWAP_ROWS:
        raise InfoaeError(f"--rows must be 1..{MAX_SWAP_ROWS}, got {args.rows}; draw several "
                          "grids (--out) for more style sources.")
    if args.verb == "swap" and args.style and len(args.style) > MAX_SWAP_ROWS:
        raise InfoaeError(f"--style takes at most {MAX_SWAP_ROWS} images, got {len(args.style)}")
    prune_nats = getattr(args, "prune_nats", None)
    if prune_nats is not None and not prune_nats >= 0:
        raise InfoaeError(f"--prune-nats must be a number >= 0, got {prune_nats}")
    run_dir = getattr(args, "run_dir", None)
    if run_dir and args.verb not in ("train", "seeds"):
        load_run_config(run_dir)  # One line for a folder that is not a run directory.
    for run_dir in getattr(args, "run_dirs", None) or ():
        load_run_config(run_dir)


def _interrupt_hint(args) -> str:
    run_dir = getattr(args, "run_dir", None)
    if args.verb == "train" and run_dir:
        from pathlib import Path

        from infoae.rundir import has_checkpoint

        if not Path(run_dir).is_dir():
            return " before its first checkpoint, so nothing was kept; run the same command again"
        if not has_checkpoint(run_dir):
            return (" before its first checkpoint: nothing to continue from; start it again "
                    "with --overwrite")
        return f"; continue it with `infoae train --resume --run-dir {run_dir}`"
    if args.verb == "seeds":
        return "; `infoae seeds` resumes where it stopped when run again"
    return ""
