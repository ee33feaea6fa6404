"""`infoae transfer`: one content and one style image (or ranges of them) through Gatys et
al.'s optimisation or a trained Info-autoencoder, drawn as content | style | result."""

from __future__ import annotations

import time
from pathlib import Path


def transfer(args) -> None:
    """The transfer verb's work, from its parsed command-line arguments."""
    import numpy as np

    from infoae.config import load_config
    from infoae.data import load_data
    from infoae.errors import InfoaeError
    from infoae.figures import save_image_grid
    from infoae.model.trained import load_run
    from infoae.rundir import LOSS_NETWORK_DIR, load_run_config
    from infoae.transfer import gatys as methods
    from infoae.transfer.images import select_images

    if args.method == "infoae" and not args.run_dir:
        raise InfoaeError("--method infoae needs --run RUN_DIR: a trained Info-autoencoder.")
    if args.run_dir:
        from infoae.config import with_overrides

        config = with_overrides(load_run_config(args.run_dir), args.overrides)
    else:
        config = load_config(args.config, args.overrides)
    if args.data_dir is not None:
        config.data.dir = args.data_dir
    data = load_data(config.data, config.train.seed)
    contents = select_images(args.content, data.test[0], data.image_shape)
    styles = select_images(args.style, data.test[0], data.image_shape)
    if len(contents) != len(styles):
        raise InfoaeError(f"--content selects {len(contents)} images and --style {len(styles)}; "
                          "they pair up one to one, so select as many of each.")
    if args.method == "infoae":
        results = methods.infoae_transfer(load_run(args.run_dir), contents, styles)
        print(f"Info-autoencoder transfer of {len(results)} pair(s).")
    else:
        from infoae.model.loss_network import loss_network_for

        directory = args.loss_network or (
            Path(args.run_dir) / LOSS_NETWORK_DIR
            if args.run_dir and (Path(args.run_dir) / LOSS_NETWORK_DIR).is_dir()
            else Path("outputs") / f"loss_network-{data.name}")
        network, _ = loss_network_for(data, config.perceptual, directory)
        results, report = methods.gatys_transfer(network, contents, styles, config.perceptual,
                                                 config.transfer)
        print(f"Gatys transfer of {len(results)} pair(s): {report['iterations']} "
              f"{report['optimizer']} iterations in {report['seconds']:.1f} s; loss per image "
              f"{report['start']['loss']:.4g} -> {report['end']['loss']:.4g} "
              f"(content {report['end']['content']:.4g}, style {report['end']['style']:.4g}, "
              f"tv {report['end']['tv']:.4g}).")
    out = args.out or str(Path("outputs") / f"transfer-{args.method}-{time.strftime('%Y%m%d-%H%M%S')}.png")
    grid = np.stack([contents, styles, results], axis=1)
    save_image_grid(grid, out, ["content", "style", args.method])
    print(f"Figure written to {out}")
