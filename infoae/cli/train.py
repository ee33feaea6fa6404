"""infoae train and infoae seeds."""

from __future__ import annotations

import time
from pathlib import Path

from infoae.console import start_backend


def add_parsers(verbs) -> None:
    train = verbs.add_parser("train", help="train a model, then evaluate it and draw a swap grid")
    train.add_argument("--config", help="TOML config file (configs/mnist.toml, ...)")
    train.add_argument("--data-dir", default="", help="local data files instead of tfds")
    train.add_argument("--run-dir", help="run directory (default outputs/<config>-<time>)")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a config key, e.g. train.epochs=3")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run")
    train.add_argument("--no-evaluate", action="store_true", help="train only")


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
    from infoae.cli.pages import compare

    compare(args, run_dirs)


VERBS = {"train": _train, "seeds": _seeds}
