"""Atomic file writes: a temporary file beside the target, flushed to disk, then renamed over it.

A reader (or a run killed mid-write) sees the old file or the new one, never a part of either;
a write that fails (a full disk) removes its temporary file and leaves the old file as it was.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: str | Path, suffix: str = ""):
    """Yields a temporary path to write; on success it is flushed and renamed to path, on
    failure removed. suffix ends the temporary name (Keras wants .weights.h5)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes to path atomically."""
    with replacing(path) as temporary:
        temporary.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    """Write text (UTF-8) to path atomically."""
    write_bytes(path, text.encode())


def save_weights(model, path: str | Path, optimizer_state: bool = True) -> None:
    """model.save_weights(path), atomically; optimizer_state=False leaves the optimizers'
    variables out (about two thirds of an Info-autoencoder's file): weights to use, not to
    continue training from (checkpoints keep them)."""
    with replacing(path, ".weights.h5") as temporary:
        if optimizer_state:
            model.save_weights(temporary)
            return
        whole = temporary.with_name(temporary.name + ".whole.weights.h5")
        try:
            model.save_weights(whole)
            _copy_without_optimizers(whole, temporary)
        finally:
            whole.unlink(missing_ok=True)


def _copy_without_optimizers(source: Path, target: Path) -> None:
    """Copy a Keras weights file, every optimizer's group kept but emptied (Keras then loads
    the model's variables and skips the optimizers', with a warning infoae silences)."""
    import h5py

    with h5py.File(source, "r") as whole, h5py.File(target, "w") as light:
        for key, value in whole.attrs.items():
            light.attrs[key] = value
        for name in whole:
            if name == "optimizer" or name.endswith("_optimizer"):
                group = light.create_group(name)
                for key, value in whole[name].attrs.items():
                    group.attrs[key] = value
                for child in whole[name]:
                    if isinstance(whole[name][child], h5py.Group):
                        group.create_group(child)
            else:
                whole.copy(whole[name], light, name)
