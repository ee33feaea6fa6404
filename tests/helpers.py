"""Settings shared by the end-to-end tests: a small model on the offline MNIST sample."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = str(ROOT / "configs" / "quickstart.toml")
# A small model on the sample: a couple of minutes on two CPU cores. Its leakage is the highest
# of a two-probe panel (an MLP and boosted trees, one of each family) where the default panel
# fits three MLPs and the trees: the MLP probes are most of an evaluation's time at this size.
FAST = ["train.verbose=0", "train.epochs=8", "train.monitor_size=300",
        "model.encoder_filters=[16, 32, 64]", "model.generator_filters=[64, 32, 16]",
        "model.encoder_dense=128", "evaluate.judge_epochs=6", "evaluate.swap_size=300",
        "evaluate.probe_train_size=3000", "evaluate.factor_train_size=2000",
        "evaluate.factor_test_size=1000", "evaluate.swap_factor_sources=100",
        'evaluate.leak_probes=["mlp", "boost"]']


def sets(overrides):
    """--set arguments for the CLI."""
    return [arg for item in overrides for arg in ("--set", item)]
