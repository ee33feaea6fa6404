"""What run.json vouches for (format 3 on): the size and SHA-256 of the final weights
(``weights``) and of the class map file (``class_map``, with its kind and file name).

run.json is the commit point of a run's state. A class map is replaced by writing the new map
under a name no file of the run has (``new_class_map_name``), then run.json naming it, then
removing every class map file run.json does not name (``remove_unnamed_class_maps``): a
command killed at any point leaves run.json naming the old map or the new one, each intact.
Readers use only the file run.json names, checked against its checksum; a class map file it
does not name is a leftover of an interrupted write and is never read.
"""

from __future__ import annotations

from pathlib import Path

from infoae.errors import RunDirError
from infoae.rundir.checkpoints import file_digest
from infoae.rundir.files import CLASS_MAP_FILE, OLD_CLASS_MAP_FILE, RUN_FILE

# The first format whose run.json records checksums.
VOUCHED_FORMAT = 3


def record(run_dir: Path, name: str, **extra) -> dict:
    """A run.json entry for a file of the run directory: its name, size and SHA-256."""
    return {**extra, "file": name, **file_digest(Path(run_dir) / name)}


def _entry_problem(entry) -> str:
    if not isinstance(entry, dict):
        return f"an entry of type {type(entry).__name__}"
    name, digest = entry.get("file"), entry.get("sha256")
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in ("..", "."):
        return f"the file name {name!r}"
    if not isinstance(digest, str) or len(digest) != 64:
        return f"the checksum {digest!r}"
    return ""


def checked_file(run_dir: Path, entry, what: str) -> Path:
    """The file a run.json entry names, after checking it is there with the recorded SHA-256;
    otherwise a RunDirError naming both files."""
    run_dir = Path(run_dir)
    problem = _entry_problem(entry)
    if problem:
        raise RunDirError(f"{RUN_FILE} in '{run_dir}' records {what} with {problem}; the file is "
                          "damaged. Restore it, or train the run again.")
    path = run_dir / entry["file"]
    if not path.is_file():
        raise RunDirError(f"{RUN_FILE} in '{run_dir}' vouches for {what} '{entry['file']}', which "
                          "is missing; restore it, or train the run again.")
    if file_digest(path)["sha256"] != entry["sha256"]:
        raise RunDirError(f"'{path}' is not the {what} that {RUN_FILE} in '{run_dir}' vouches for "
                          "(its SHA-256 differs): it was replaced or damaged. Restore the run's "
                          "own file, or train the run again.")
    return path


def class_map_files(run_dir: Path) -> list[Path]:
    """Every class map file in the run directory, named by run.json or not."""
    run_dir = Path(run_dir)
    found = sorted(run_dir.glob("class_map*.npz"))
    if (run_dir / OLD_CLASS_MAP_FILE).is_file():
        found.append(run_dir / OLD_CLASS_MAP_FILE)
    return [path for path in found if path.is_file()]


def named_class_map(info: dict) -> str | None:
    """The class map file run.json names (None: the run has no class map)."""
    entry = info.get("class_map")
    return entry.get("file") if isinstance(entry, dict) else None


def new_class_map_name(info: dict, digest: str) -> str:
    """A name for a new class map file that run.json does not name now: class_map.npz, or,
    where run.json names that one, class_map.<first 12 hex digits of its SHA-256>.npz."""
    if named_class_map(info) != CLASS_MAP_FILE:
        return CLASS_MAP_FILE
    return f"class_map.{digest[:12]}.npz"


def remove_unnamed_class_maps(run_dir: Path, info: dict) -> None:
    """Remove the class map files run.json (info, as written) does not name."""
    keep = named_class_map(info)
    for path in class_map_files(run_dir):
        if path.name != keep:
            path.unlink(missing_ok=True)


def not_vouched_line(run_dir: Path, version: int) -> str:
    return (f"Note: '{run_dir}' is a run directory of format {version}, whose {RUN_FILE} records "
            "no checksums: its weights and class map are not vouched for (`infoae class-map "
            f"{run_dir} --kind KIND` records them).")
