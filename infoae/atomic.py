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


def save_weights(model, path: str | Path) -> None:
    """model.save_weights(path), atomically."""
    with replacing(path, ".weights.h5") as temporary:
        model.save_weights(temporary)
