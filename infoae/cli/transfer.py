"""infoae transfer: style transfer of image pairs (Gatys et al., or a trained run)."""

from __future__ import annotations


def add_parsers(verbs) -> None:
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


def _transfer(args) -> None:
    from infoae.transfer.command import transfer

    transfer(args)


VERBS = {"transfer": _transfer}
