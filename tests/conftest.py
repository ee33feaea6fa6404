"""Shared fixtures: quiet TensorFlow, and a small config for fast training tests."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
# Judges trained by evaluations are cached for the test run only, never in the user's cache.
# Under -n the controller sets it before starting the workers, which inherit it: they share one
# cache, whose entries are locked while one is trained.
if "INFOAE_CACHE" not in os.environ:
    os.environ["INFOAE_CACHE"] = tempfile.mkdtemp(prefix="infoae-cache-")
    # Removed when the process that made it (the controller under -n) exits.
    atexit.register(shutil.rmtree, os.environ["INFOAE_CACHE"], ignore_errors=True)
# So is JAX's persistent compilation cache (what the CLI and infoae.load_run use on JAX, here
# for every test, also those that build models themselves): every program, however short its
# compilation. Hundreds of short compilations (initialisers, eager ops) are most of a small
# JAX model's set-up; the workers and the subprocesses of the tests reuse each other's. No size
# limit (as the CLI): a limit makes JAX scan every entry on each write. A worker that reads an
# entry the other is still writing gets JAX's warning and compiles it again.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(os.environ["INFOAE_CACHE"], "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# Two workers on two cores: OpenMP threads (scikit-learn's t-SNE and boosted trees) that wait
# for work sleep instead of spinning on the core the other worker computes on (a t-SNE beside
# a busy process: 5.6 s spinning, 3.3 s sleeping). The results do not depend on it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
HEAVY_FIXTURES = {"trained_run", "baseline_run", "perceptual_run", "jax_run", "tiny_run",
                  "loss_network"}


# Tests that share a fixture of this suite run in one xdist worker (the README's command runs
# `-n auto --dist loadgroup`), so that each fixture is built once: a module-scoped fixture's
# tests in their module's group, a session-scoped one's (the trained run) in the "trained_run"
# group, with every module-scoped fixture of a module that also uses the trained run (the
# transfer tests need the trained run and the perceptual run). The rest go to a free worker.
def _own_fixtures(item, scope: str) -> set[str]:
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return {name for name, defs in definitions.items()
            if defs and defs[-1].scope == scope
            and getattr(defs[-1].func, "__module__", "").startswith("tests")}


def _instances(item, fixtures: set[str]) -> str:
    """Which instance of each parametrized module-scoped fixture the test needs ("" where
    none is parametrized): tests of one instance share a group, other instances go to other
    workers."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return "".join(f"[{params[name]}]" for name in sorted(fixtures) if name in params)


@pytest.hookimpl(tryfirst=True)  # Before xdist's own, which reads the groups into node ids.
def pytest_collection_modifyitems(config, items):
    shared = {item: (_own_fixtures(item, "session"), _own_fixtures(item, "module"))
              for item in items}
    with_session = {item.module.__name__ for item, (session, _) in shared.items() if session}
    for item, (session, module_scoped) in shared.items():
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        module = item.module.__name__
        if session or (module in with_session and module_scoped):
            item.add_marker(pytest.mark.xdist_group("trained_run"))
        elif module_scoped:
            item.add_marker(pytest.mark.xdist_group(module + _instances(item, module_scoped)))
