"""Checkpoints of a run directory: the index (latest.json), checks, the newest whole one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from infoae.errors import RunDirError
from infoae.rundir.files import CHECKPOINT_DIR, LATEST_FILE


def file_digest(path: str | Path) -> dict:
    """Size and SHA-256 of a file, as the checkpoint index and metrics.json record them."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"size": Path(path).stat().st_size, "sha256": digest.hexdigest()}


CHECKPOINT_PATTERN = "epoch-*.weights.h5"


def has_checkpoint(run_dir: str | Path) -> bool:
    """Whether the run directory holds a checkpoint file (whole or not)."""
    return any((Path(run_dir) / CHECKPOINT_DIR).glob(CHECKPOINT_PATTERN))


def checkpoint_index(run_dir: str | Path) -> tuple[list[dict], str]:
    """The kept checkpoints, newest first ({"epoch", "file"[, "size", "sha256"]}), and a note
    when latest.json is missing or damaged (then the checkpoint files themselves are listed,
    newest first, without checksums)."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    note = ""
    try:
        info = json.loads((directory / LATEST_FILE).read_text())
        entries = info.get("checkpoints") or [{"epoch": info["epoch"], "file": info["file"]}]
        entries = [dict(entry, epoch=int(entry["epoch"]), file=str(entry["file"]))
                   for entry in entries]
        if all("/" not in entry["file"] for entry in entries):
            return sorted(entries, key=lambda entry: -entry["epoch"]), note
        note = f"{LATEST_FILE} names files outside {directory}"
    except FileNotFoundError:
        note = f"{LATEST_FILE} is missing"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        note = f"{LATEST_FILE} is damaged ({type(error).__name__})"
    entries = []
    for path in directory.glob(CHECKPOINT_PATTERN):
        number = path.name[len("epoch-"):-len(".weights.h5")]
        if number.isdigit():
            entries.append({"epoch": int(number), "file": path.name})
    return sorted(entries, key=lambda entry: -entry["epoch"]), note


def checkpoint_problem(run_dir: str | Path, entry: dict) -> str:
    """Why a checkpoint of the index cannot be used ("" when it is whole)."""
    path = Path(run_dir) / CHECKPOINT_DIR / entry["file"]
    if not path.is_file():
        return "missing"
    if "sha256" in entry:
        found = file_digest(path)
        if found["size"] != entry.get("size"):
            return f"{found['size']} bytes, the index says {entry.get('size')}"
        if found["sha256"] != entry["sha256"]:
            return "its checksum does not match the index"
        return ""
    try:
        import h5py

        with h5py.File(path, "r") as handle:
            list(handle.keys())
    except Exception as error:  # h5py raises OSError and others for damaged files.
        return f"not a readable weights file ({type(error).__name__})"
    return ""


def latest_checkpoint(run_dir: str | Path, say=print) -> tuple[int, Path] | None:
    """(completed epochs, weights file) of the newest whole checkpoint, or None when there is
    no checkpoint. Damaged ones are skipped (say() tells which); RunDirError when none is
    whole."""
    entries, note = checkpoint_index(run_dir)
    if not entries:
        return None
    skipped = [note] if note else []
    for entry in entries:
        problem = checkpoint_problem(run_dir, entry)
        if not problem:
            if skipped:
                say(f"Checkpoints of '{run_dir}': {'; '.join(skipped)}. Using "
                    f"{entry['file']} (epoch {entry['epoch']}).")
            return entry["epoch"], Path(run_dir) / CHECKPOINT_DIR / entry["file"]
        skipped.append(f"{entry['file']} is damaged ({problem})")
    raise RunDirError(f"no usable checkpoint in '{Path(run_dir) / CHECKPOINT_DIR}': "
                      f"{'; '.join(skipped)}. Start the run again with --overwrite.")
