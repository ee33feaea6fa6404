"""Shared fixtures: quiet TensorFlow, and a small config for fast training tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
# Judges trained by evaluations are cached for the session only, never in the user's cache.
os.environ.setdefault("INFOAE_CACHE", __import__("tempfile").mkdtemp(prefix="infoae-cache-"))

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def configs_dir() -> Path:
    return ROOT / "configs"


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A small Info-autoencoder trained (and evaluated) on the MNIST sample with the CLI;
    shared by the end-to-end tests."""
    from infoae.cli import main
    from tests.helpers import FAST, QUICKSTART, sets

    run_dir = tmp_path_factory.mktemp("runs") / "sample"
    assert main(["train", "--config", QUICKSTART, "--run-dir", str(run_dir), *sets(FAST)]) == 0
    return run_dir


# Fixtures that train or evaluate a model: a test that needs one is in the slow tier
# (pytest -m "not slow" leaves it out), as is a test marked slow itself.
HEAVY_FIXTURES = {"trained_run", "baseline_runs", "perceptual_run", "jax_run", "tiny_run",
                  "loss_network"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
