"""Settings shared by the end-to-end tests: a small model on the offline MNIST sample."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = str(ROOT / "configs" / "quickstart.toml")
# Leakage as the highest of two probes, one of each family (an MLP and boosted trees), where
# the default panel fits three MLPs and the trees: the MLP probes are most of a small
# evaluation's time.
TWO_PROBES = 'evaluate.leak_probes=["mlp", "boost"]'
# A small model on the sample: a couple of minutes on two CPU cores. Its judges train 3 epochs
# (6 took a third of the shared run's set-up; both read over 90% of the test digits).
FAST = ["train.verbose=0", "train.epochs=8", "train.monitor_size=300",
        "model.encoder_filters=[16, 32, 64]", "model.generator_filters=[64, 32, 16]",
        "model.encoder_dense=128", "evaluate.judge_epochs=3", "evaluate.swap_size=300",
        "evaluate.probe_train_size=3000", "evaluate.factor_train_size=2000",
        "evaluate.factor_test_size=1000", "evaluate.swap_factor_sources=100", TWO_PROBES]
# The smallest content head, a quarter of the default's channels: for the tests that need a
# model, not a good classifier (the default head is most of a tiny model's multiply-adds).
TINY_HEAD = ["model.content_filters=[8, 16]", "model.content_dense=32"]
# Every network at about the smallest width: for one-step tests of what a step updates, where
# the default widths were most of a JAX test's compilation and steps.
TINY_NETS = ["model.encoder_filters=[8, 16, 16]", "model.generator_filters=[16, 16, 8]",
             "model.encoder_dense=32", "model.adversary_hidden=32", *TINY_HEAD]
# The smallest evaluation settings a test uses where it scores a run again and asserts what
# does not depend on them: fewer swaps and one probe.
SMALL_EVALUATION = ["evaluate.swap_size=50", 'evaluate.leak_probes=["boost"]']


def sets(overrides):
    """--set arguments for the CLI."""
    return [arg for item in overrides for arg in ("--set", item)]
