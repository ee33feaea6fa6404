"""The style-transfer methods side by side, in one run, on the same pairs and judge.

    python scripts/compare_transfer.py --pixel-run outputs/mnist \
        --perceptual-run outputs/mnist-perceptual --data-dir ../shared/data/mnist \
        --pairs 1000 --out-dir outputs/transfer-mnist --figure docs/transfer_mnist.png

Rows: the Info-autoencoder trained with the pixel loss, the one trained with perceptual
losses, Gatys et al.'s optimisation (settings from the perceptual run's config, [transfer]
and [perceptual], overridable with --set), and a real image of the content digit as a
reference. Gatys uses the perceptual run's loss network, so both perceptual methods see
the same features. Writes comparison.md and comparison.json to --out-dir, and the grid of
the three methods on the first pairs to --figure. See infoae/transfer_compare.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pixel-run", required=True, help="run trained with the pixel loss")
    parser.add_argument("--perceptual-run", required=True,
                        help="run trained with perceptual losses (its loss network serves Gatys)")
    parser.add_argument("--data-dir", default=None, help="local data files instead of the runs'")
    parser.add_argument("--pairs", type=int, default=1000, help="test pairs scored per method")
    parser.add_argument("--gatys-batch", type=int, default=100, help="pairs per Gatys optimisation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override [transfer] / [perceptual] keys")
    parser.add_argument("--gatys-variant", action="append", default=[], metavar="KEY=VALUE[,...]",
                        help="an extra Gatys row with these settings changed, e.g. "
                        "transfer.style_weight=10,transfer.steps=200 (repeatable)")
    parser.add_argument("--out-dir", default="outputs/transfer-comparison")
    parser.add_argument("--figure", help="PNG of the methods on the first 8 pairs "
                        "(default OUT_DIR/transfer_grid.png)")
    args = parser.parse_args(argv)

    from infoae.config import with_overrides
    from infoae.data import load_data
    from infoae.errors import InfoaeError
    from infoae.figures import save_image_grid
    from infoae.model.loss_network import load_loss_network
    from infoae.model.trained import load_run
    from infoae.rundir import LOSS_NETWORK_DIR, write_json
    from infoae.transfer.compare import compare_methods, comparison_grid, format_comparison

    try:
        runs = {"Info-AE (pixel loss)": load_run(args.pixel_run),
                "Info-AE (perceptual loss)": load_run(args.perceptual_run)}
        config = with_overrides(runs["Info-AE (perceptual loss)"].config, args.overrides)
        names = {run.config.data.name for run in runs.values()}
        if len(names) != 1:
            raise InfoaeError(f"the runs are on different datasets ({', '.join(sorted(names))}); "
                              "compare runs of one dataset.")
        if args.data_dir is not None:
            config.data.dir = args.data_dir
        data = load_data(config.data, config.train.seed)
        network, _ = load_loss_network(Path(args.perceptual_run) / LOSS_NETWORK_DIR,
                                       data.image_shape)
        variants = {f"Gatys ({text})": with_overrides(config, text.split(","))
                    for text in args.gatys_variant}
        report = compare_methods(data, runs, network, config, args.pairs, args.gatys_batch,
                                 args.seed, config.evaluate.judge_epochs, variants)
    except InfoaeError as error:
        print(f"compare_transfer: error: {error}", file=sys.stderr)
        return 2
    table = format_comparison(report)
    print(table)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "comparison.md").write_text(table + "\n")
    write_json(out_dir / "comparison.json", {
        key: report[key] for key in ("rows", "pairs", "settings", "judge_validation_acc")}
        | {"runs": {"pixel": args.pixel_run, "perceptual": args.perceptual_run}})
    grid, titles = comparison_grid(report)
    figure = save_image_grid(grid, args.figure or out_dir / "transfer_grid.png", titles,
                             f"{data.name}: content x style, three methods")
    print(f"Written: {out_dir / 'comparison.md'}, {out_dir / 'comparison.json'}, {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
