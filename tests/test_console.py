"""The console: argument errors before Keras is imported, and a quiet Python API."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORMAT1 = ROOT / "tests" / "data" / "run_format1"

# Runs main() on the arguments and reports whether Keras was imported when it returned.
PROBE = """
import sys
from infoae.cli import main
code = main(sys.argv[1:])
print("exit", code, "keras" in sys.modules)
"""


@pytest.mark.parametrize("argv, message", [
    (["train", "--data-dir", "/nonexistent/mnist"], "--data-dir '/nonexistent/mnist' is not a"),
    (["swap", str(FORMAT1), "--rows", "0"], "--rows must be 1..100"),
    (["evaluate", "/nonexistent/run"], "is not a run directory"),
    (["compare", str(FORMAT1), "/nonexistent/run"], "is not a run directory"),
])
def test_argument_errors_come_before_keras_is_imported(argv, message):
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "exit 2 False", done.stdout + done.stderr
    assert message in done.stderr and done.stderr.strip().count("\n") == 0


def test_the_python_api_is_as_quiet_as_the_cli():
    code = f"import infoae; run = infoae.load_run({str(FORMAT1)!r}); print(run.num_classes)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={"PATH": "/usr/bin:/bin", **_python_env()})
    assert done.returncode == 0 and done.stdout.strip().endswith("10")
    assert done.stderr.strip() == "", done.stderr  # No TensorFlow C++ lines (cuInit, ...).


def _python_env() -> dict:
    import os

    return {key: value for key, value in os.environ.items()
            if key not in ("TF_CPP_MIN_LOG_LEVEL",)}


@pytest.mark.slow  # A process that imports JAX and Keras: about 50 s on 2 busy cores.
def test_on_jax_the_api_keeps_compiled_programs_in_the_cache(tmp_path):
    """On JAX, infoae.load_run (as every command) points JAX's persistent compilation cache at
    the evaluation cache's jax/ folder (one per kind of CPU) and keeps every program there,
    however short its compilation."""
    code = (f"import infoae, jax; run = infoae.load_run({str(FORMAT1)!r}); "
            "print(jax.config.jax_compilation_cache_dir)")
    env = {key: value for key, value in _python_env().items()
           if not key.startswith("JAX_")} | {"KERAS_BACKEND": "jax",
                                             "INFOAE_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    folder = Path(done.stdout.strip().splitlines()[-1])  # jax/ and the kind of CPU.
    assert folder.parent == tmp_path / "cache" / "jax" and folder.name.startswith(
        platform.machine())
    assert len(list(folder.iterdir())) > 10  # The short compilations too, not only those over 1 s.


def test_jax_own_cache_setting_wins_and_the_cache_can_be_off(tmp_path, monkeypatch):
    from infoae.cache import use_jax_compilation_cache

    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "own"))
    assert use_jax_compilation_cache() == tmp_path / "own"  # JAX reads it itself.
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    monkeypatch.setenv("INFOAE_CACHE", "off")
    assert use_jax_compilation_cache() is None
