"""What the class map costs: refit other class maps on a trained run's codes and score each.

    python scripts/class_map_sweep.py outputs/mnist --data-dir $MNIST_DIR \
        --maps none moments gaussian gaussian:layers=30 gaussian:knots=9 --json sweep.json

For each map: the MLP and linear leakage of the kept style code (the evaluation's probes,
fitted on the same training codes), the style consistency of swaps in the mapped code and in
the encoder's own code (on --sources test images, each drawn as every digit), and the factor
R^2 from the style code where the data has factors (MNIST morphometrics, SynDigits). The maps
are fitted on the same training codes as the run's own; the run directory is not written to.
--prune-nats 0.1 0.3 scores every map again with the dimensions that each pruning threshold
(model.prune_nats) would have kept, from the information per dimension that run.json records.
A second table says where each map's style consistency comes from: the swaps to the source's
own label (no swap at all), the sources by their distance from the code's centre, and the
least consistent label (every label's figure is in the --json rows).
About 1-2 minutes per map for full MNIST on a 2-core CPU. See infoae/evaluation/class_map_sweep.py.
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
    parser.add_argument("run_dir", help="a trained run directory")
    parser.add_argument("--data-dir", default=None, help="local data files instead of the run's")
    parser.add_argument("--maps", nargs="+", default=["none", "moments", "gaussian"],
                        metavar="MAP", help="none, moments, gaussian[:layers=N][:knots=N]")
    parser.add_argument("--sources", type=int, default=1000,
                        help="test images whose swaps score the style consistency")
    parser.add_argument("--prune-nats", type=float, nargs="+", default=None, metavar="NATS",
                        help="also score each map with the dimensions that these pruning "
                             "thresholds keep (model.prune_nats; default: the run's own)")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from infoae.data import load_data
    from infoae.errors import InfoaeError
    from infoae.evaluation.class_map_sweep import markdown, parse_map, sweep
    from infoae.model.trained import load_run

    try:
        for name in args.maps:
            parse_map(name)
        if args.sources < 1:
            raise ValueError(f"--sources must be >= 1, got {args.sources}")
        if args.prune_nats and min(args.prune_nats) < 0:
            raise ValueError(f"--prune-nats must be >= 0, got {min(args.prune_nats)}")
        run = load_run(args.run_dir)
        config = run.config
        if args.data_dir is not None:
            config.data.dir = args.data_dir
        data = load_data(config.data, config.train.seed)
        rows = sweep(run, data, args.maps, min(args.sources, len(data.test[1])), args.prune_nats)
    except (InfoaeError, ValueError) as error:
        print(f"class_map_sweep: {error}", file=sys.stderr)
        return 2
    print(markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
