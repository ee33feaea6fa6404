"""The most of each style factor that a style code without the class can hold.

    python scripts/factor_ceiling.py --config configs/mnist.toml --data-dir $MNIST_DIR \
        --factors slant thickness thickness+slant

For each factor set, an oracle code made of the real factors' within-class ranks (normal
scores) is scored by the evaluation's own regressors (factor R^2, style_factor_r2's method)
and MLP leakage probe; a last row scores the class alone (the share of each factor the class
explains). A run's style_factor_r2 beside the oracle's says how far from the ceiling it is;
--run RUN_DIR scores that run's codes in the same table (its data and split, the config's own),
with and without the class beside them:

    python scripts/factor_ceiling.py --run outputs/mnist --data-dir $MNIST_DIR --factors slant

See infoae/evaluation/ceiling.py. About 2 minutes for full MNIST on a 2-core CPU (4 more rows
with --run: about 3 more).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/mnist.toml", help="the dataset's config")
    parser.add_argument("--data-dir", default=None, help="local data files instead of tfds")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. data.syndigits_train_size=30000")
    parser.add_argument("--factors", nargs="+", default=["slant", "thickness"],
                        metavar="F[+F...]", help="factor sets, each one code (a+b: two columns)")
    parser.add_argument("--train", type=int, default=10000, help="training images (fit)")
    parser.add_argument("--test", type=int, default=10000, help="test images (scored)")
    parser.add_argument("--run", help="a trained run: score its codes too (its config is used)")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from infoae.config import load_config
    from infoae.data import load_data
    from infoae.errors import InfoaeError
    from infoae.evaluation.ceiling import ceiling, markdown

    try:
        if min(args.train, args.test) < 10:
            raise ValueError("--train and --test must be >= 10")
        run = None
        if args.run:
            from infoae.config import with_overrides
            from infoae.rundir import load_run_config

            load_run_config(args.run)  # A missing run is one line, before Keras starts.
            from infoae.model.trained import load_run

            run = load_run(args.run)
            config = with_overrides(run.config, args.set)
        else:
            config = load_config(args.config, args.set)
        if args.data_dir is not None:
            config.data.dir = args.data_dir
        data = load_data(config.data, config.train.seed)
        rows = ceiling(data, [f.split("+") for f in args.factors], args.train, args.test,
                       config.train.seed, run)
    except (InfoaeError, ValueError, FileNotFoundError) as error:
        print(f"factor_ceiling: {error}", file=sys.stderr)
        return 2
    print(markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
