"""The verbs on one trained run: infoae swap, infoae evaluate, infoae class-map."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path


def add_parsers(verbs) -> None:
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
    evaluate.add_argument("--split", choices=("test", "validation"), default=None,
                          help="the split to score (default: the run's evaluate.split, test); "
                          "validation writes RUN_DIR/metrics.validation.json and no report, for "
                          "choosing settings before the test split is read")
    evaluate.add_argument("--set", dest="overrides", action="append", default=[],
                          metavar="evaluate.KEY=VALUE", help="score with other evaluation "
                          "settings; they replace the run's in RUN_DIR/config.toml")
    evaluate.add_argument("--no-report", action="store_true", help="metrics only, without "
                          "RUN_DIR/report.html (its traversals and t-SNE embeddings); `infoae "
                          "report RUN_DIR` writes it later")


    class_map = verbs.add_parser("class-map", aliases=["normalise"],
                                 help="fit (or remove) a trained run's class map of the style "
                                 "code, then evaluate it again")
    class_map.add_argument("run_dir")
    class_map.add_argument("--kind", required=True, choices=("gaussian", "moments", "none"))
    class_map.add_argument("--data-dir", default=None, help="local data files instead of the run's")
    class_map.add_argument("--prune-nats", type=float, default=None, metavar="NATS",
                           help="first prune the code again at this threshold "
                                "(model.prune_nats; 0 keeps every dimension)")
    class_map.add_argument("--no-evaluate", action="store_true", help="fit only")


def _swap(args) -> None:  # Its arguments are checked by cli._early_checks.
    from infoae.figures import save_swap_grid, swap_grid, write_swap_grid
    from infoae.model.trained import load_run_with_data
    from infoae.rundir import run_lock

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
            run, data = load_run_with_data(args.run_dir, args.data_dir, args.checkpoint)
            grid = write_swap_grid(run, data, args.out, args.rows)
    print(f"Swap grid written to {grid}")


def _evaluate(args) -> None:
    from infoae.config import save_config, section_overrides
    from infoae.evaluation.evaluate import evaluate_run, format_metrics
    from infoae.model.trained import load_run_with_data
    from infoae.report import write_run_report
    from infoae.rundir import CONFIG_FILE, load_run_config, metrics_file, run_lock

    overrides = getattr(args, "overrides", [])  # Clear lines before anything is created:
    config = section_overrides(load_run_config(args.run_dir), overrides, "evaluate")
    split = getattr(args, "split", None) or config.evaluate.split
    with run_lock(args.run_dir, "infoae evaluate"):
        run, data = load_run_with_data(args.run_dir, args.data_dir, args.checkpoint)
        run.config.evaluate = config.evaluate
        report = evaluate_run(run, data=data, split=split)
        if overrides and split == "test":  # The settings that metrics.json was scored with.
            save_config(config, Path(args.run_dir) / CONFIG_FILE)
        page = None
        if not args.checkpoint and split == "test" and not args.no_report:
            page = write_run_report(run, data, say=True)
    print(format_metrics(report))
    print(f"Written to {Path(args.run_dir) / metrics_file(split)}")
    if page:
        print(f"Report:  {page}  (open it in a browser)")


def _class_map(args) -> None:  # Its arguments are checked by cli._early_checks.
    from infoae.rundir import run_lock
    from infoae.training.style_code import refit_class_map

    with run_lock(args.run_dir, "infoae class-map"):
        refit_class_map(args.run_dir, args.kind, args.data_dir, args.prune_nats)
    print(f"Class map of {args.run_dir}: {args.kind} (config.toml and run.json updated).")
    if not args.no_evaluate:
        args.checkpoint = False
        _evaluate(args)


VERBS = {"swap": _swap, "evaluate": _evaluate, "class-map": _class_map, "normalise": _class_map}
