"""The evaluation cache: what depends on the data and the settings alone, kept between
evaluations so that only what depends on a run is computed again.

Held in ``~/.cache/infoae`` (or ``$INFOAE_CACHE``; ``INFOAE_CACHE=off`` disables it), one
file per entry, named by a hash of everything the entry depends on (the data's bytes, the
settings, the code's version of the computation): the judges (``infoae.evaluation.judge``),
the morphometrics of real images and the SynDigits factor regressor
(``infoae.evaluation.factors``), and for training the loss network of the perceptual losses
(``infoae.model.loss_network``). A damaged entry is computed again and replaced; a read-only
or full cache only costs the next evaluation the computation.

On the JAX backend the cache also holds JAX's compiled programs (``jax/``, JAX's own persistent
compilation cache, ``use_jax_compilation_cache``): otherwise each command compiles the same
layers, initialisers and steps again (a small run's evaluation: 165 s without it, 77 s with it
on a 2-core CPU, docs/speed.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from infoae import atomic
from infoae.rundir import file_digest, read_json, write_json

# Where cached entries are kept (INFOAE_CACHE overrides; "off" disables).
DEFAULT_CACHE = Path.home() / ".cache" / "infoae"


def cache_dir() -> Path | None:
    setting = os.environ.get("INFOAE_CACHE", "")
    if setting.lower() == "off":
        return None
    return Path(setting) if setting else DEFAULT_CACHE


# JAX's persistent compilation cache, in the cache's ``jax/``: every compiled program is kept
# (JAX's default keeps only those that took over a second to compile, but a Keras model's
# initialisers and eager ops are hundreds of short compilations), with no size limit: a limit
# makes JAX read every entry's access time on each write (a test run's JAX part took 578 s with
# one, 336 s without), and the entries are small (about 5 kB each); the folder can be deleted
# at any time. One folder per kind of CPU (its architecture and instruction-set flags), so that
# a cache in a home directory shared by several machines never hands one machine a program
# compiled for another's instructions.


def _host_kind() -> str:
    import platform

    flags = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = line
                break
    text = f"{platform.machine()} {platform.processor()} {flags}"
    return f"{platform.machine() or 'cpu'}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def use_jax_compilation_cache() -> Path | None:
    """Point JAX's persistent compilation cache at the cache's ``jax/`` folder, unless the
    user set JAX's own ``JAX_COMPILATION_CACHE_DIR`` (that is kept) or turned the cache off.
    Returns the folder in use (``jax/`` and the kind of CPU). Call it before the first JAX
    computation."""
    import jax

    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    root = cache_dir()
    if root is None:
        return None
    folder = root / "jax" / _host_kind()
    jax.config.update("jax_compilation_cache_dir", str(folder))
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return folder


def array_digest(*arrays) -> str:
    """A short hash of arrays' shapes and bytes."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def cache_key(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def cached_array(kind: str, settings: dict, compute) -> tuple[np.ndarray, str]:
    """(array, "loaded" or "computed"): compute() once per settings, kept under
    CACHE/kind/KEY.npy."""
    directory = cache_dir()
    path = directory / kind / f"{cache_key(settings)}.npy" if directory else None
    if path is not None and path.is_file():
        try:
            return np.load(path, allow_pickle=False), "loaded"
        except (OSError, ValueError):
            pass  # Damaged: computed again below and replaced.
    array = np.asarray(compute())
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_bytes(path, _npy_bytes(array))
        except OSError:
            pass
    return array, "computed"


# What a cached network's info file records of its entry, beside the info itself.
ENTRY_KEY, ENTRY_DIGEST = "cache_entry_key", "cache_entry_weights_sha256"


def cached_network(kind: str, settings: dict, build, train):
    """(network, info, "loaded" or "trained", key): build() with the weights of
    CACHE/kind/KEY.weights.h5 and the info of KEY.json where the entry exists, else
    train() -> (network, info), stored there. The info file vouches for its entry (its key and
    the weights' SHA-256): an entry whose info does not (empty, damaged, another entry's, or
    written before it recorded them) is trained again."""
    key = cache_key(settings)
    directory = cache_dir()
    weights = directory / kind / f"{key}.weights.h5" if directory else None
    with _entry_lock(weights):  # Two processes wanting one entry: the second loads it.
        return _cached_network(key, weights, build, train)


@contextlib.contextmanager
def _entry_lock(path: Path | None):
    """Hold a lock on one cache entry (none where the cache is off or cannot be written)."""
    from filelock import FileLock

    lock = None
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(path) + ".lock")
            lock.acquire()
        except OSError:
            lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def _cached_network(key: str, weights: Path | None, build, train):
    info_file = weights.with_suffix("").with_suffix(".json") if weights else None
    if weights is not None and weights.is_file():
        try:
            info = read_json(info_file)
            digest = file_digest(weights)["sha256"]
            vouched = info.pop(ENTRY_KEY) == key and info.pop(ENTRY_DIGEST) == digest
            if vouched and info:
                network = build()
                network.load_weights(weights)
                return network, info, "loaded", key
        except Exception:  # A damaged entry (h5py and Keras raise several types) is trained again.
            pass
    network, info = train()
    if weights is not None:
        try:
            weights.parent.mkdir(parents=True, exist_ok=True)
            atomic.save_weights(network, weights)
            digest = file_digest(weights)["sha256"]
            write_json(info_file, {**info, ENTRY_KEY: key, ENTRY_DIGEST: digest})
        except OSError:
            pass  # A read-only or full cache only costs the next evaluation a retraining.
    return network, info, "trained", key


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
