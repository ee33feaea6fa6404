"""How well a trained run reads photos of digits: for each of the six kinds of picture in
tests/photo_kinds.py (black on clean white, white on black, blue on yellow, faint pencil on
unevenly lit paper, a JPEG turned by EXIF, a 16-bit PNG), ten real test digits (the first of
each class in the run's test split) are drawn as that kind, prepared as `swap --style`
prepares them, and read by the run's content head. Prints how many of the ten it reads as
their digits, per kind, and writes the table as JSON with --out.

    python3 scripts/photo_check.py RUN_DIR [--data-dir DIR] [--out photo_check.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from infoae.console import start_backend
    from infoae.model.trained import load_run_with_data
    from infoae.transfer.images import prepare_photo
    from tests.photo_kinds import KINDS, photo

    start_backend()  # Quietly, as the CLI does.
    run, data = load_run_with_data(args.run_dir, args.data_dir)
    images, labels = data.test
    picks = [int(np.flatnonzero(labels == d)[0]) for d in range(10)]
    table = {}
    with tempfile.TemporaryDirectory() as directory:
        for kind in KINDS:
            prepared = np.stack([prepare_photo(photo(kind, images[i, :, :, 0], Path(directory)),
                                               run.image_shape) for i in picks])
            read = run.predict_content(prepared).argmax(1)
            table[kind] = {"read_right": int(np.sum(read == labels[picks])), "of": len(picks),
                           "read_as": read.tolist()}
            print(f"{kind:16s} {table[kind]['read_right']:2d} / {len(picks)}  read as "
                  f"{read.tolist()}")
    if args.out:
        from infoae.rundir import file_digest, load_run_config

        config = load_run_config(args.run_dir)
        Path(args.out).write_text(json.dumps({
            "run": Path(args.run_dir).name, "dataset": data.name, "seed": config.train.seed,
            "weights_sha256": file_digest(run.weights)["sha256"], "kinds": table},
            indent=2) + "\n")


if __name__ == "__main__":
    main()
