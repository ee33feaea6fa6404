"""One writer per run directory: checks before a run starts, and the directory's lock."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from infoae import atomic
from infoae.errors import RunDirError
from infoae.rundir.files import CHECKPOINT_DIR, CONFIG_FILE, LOCK_FILE, LOCK_OWNER_FILE

def run_dir_contents(run_dir: Path) -> list[Path]:
    """What a run directory holds apart from its lock files."""
    return [path for path in run_dir.iterdir() if path.name not in (LOCK_FILE, LOCK_OWNER_FILE)]


def check_run_dir(run_dir: str | Path, resume: bool, overwrite: bool) -> Path:
    """Refuse a run directory that a new (or resumed) run cannot use; changes nothing."""
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise RunDirError("--resume and --overwrite contradict each other; pass one of them.")
    if resume:
        if not (run_dir / CHECKPOINT_DIR).is_dir():
            raise RunDirError(f"cannot resume '{run_dir}': it has no checkpoint "
                              f"({CHECKPOINT_DIR}/). Start a new run instead.")
        return run_dir
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"run directory '{run_dir}' is a file, not a directory; choose "
                          "another --run-dir.")
    if run_dir.is_dir() and run_dir_contents(run_dir):
        if not overwrite:
            raise RunDirError(f"run directory '{run_dir}' already exists. Pass --resume to "
                              "continue it, --overwrite to replace it, or --run-dir for a new one.")
        if run_dir.is_symlink():
            raise RunDirError(f"refusing to overwrite '{run_dir}': it is a symbolic link (to "
                              f"'{run_dir.resolve()}'); pass the directory itself or another "
                              "--run-dir.")
        if not (run_dir / CONFIG_FILE).is_file():
            raise RunDirError(f"refusing to overwrite '{run_dir}': it exists but is not a run "
                              f"directory (no {CONFIG_FILE}). Choose another --run-dir.")
    return run_dir


def prepare_run_dir(run_dir: str | Path, resume: bool, overwrite: bool) -> Path:
    """Check the run directory for a new run (or a resumed one) and create it; with overwrite,
    empty it (its lock, held by the caller, stays)."""
    run_dir = check_run_dir(run_dir, resume, overwrite)
    if resume:
        return run_dir
    if overwrite and run_dir.is_dir():
        for path in run_dir_contents(run_dir):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise RunDirError(f"cannot write to run directory '{run_dir}' ({error.strerror}); "
                          "choose a --run-dir you can write to.") from None
    return run_dir


@contextmanager
def run_lock(run_dir: str | Path, command: str = "infoae"):
    """Hold the run directory's exclusive lock (creating the directory if needed) while the
    block runs: a second writer gets a RunDirError naming the holder's process id. The lock is
    an OS file lock (filelock), so a holder that dies releases it and the next command takes
    it over."""
    from filelock import FileLock, Timeout

    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"run directory '{run_dir}' is a file, not a directory; choose "
                          "another --run-dir.")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(run_dir / LOCK_FILE, timeout=0)
        lock.acquire()
    except Timeout:
        other = ("choose another --run-dir" if command == "infoae train" else
                 "or work on a copy of the directory")
        raise RunDirError(f"run directory '{run_dir}' is in use by {_lock_holder(run_dir)}; wait "
                          f"for it to finish (or stop it), {other}.") from None
    except OSError as error:
        raise RunDirError(f"cannot write to run directory '{run_dir}' ({error.strerror}); "
                          "choose a --run-dir you can write to.") from None
    try:
        try:
            atomic.write_text(run_dir / LOCK_OWNER_FILE, json.dumps(
                {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                 "since": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
        except OSError:
            pass  # The lock holds without its note (a full disk is reported by the writer).
        remove_stale_temporaries(run_dir)
        yield run_dir
    finally:
        if run_dir.is_dir():
            (run_dir / LOCK_OWNER_FILE).unlink(missing_ok=True)
        lock.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # Someone else's process.
    return True


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Remove the temporary files (.NAME.PID.tmp*, infoae.atomic) that processes which are no
    longer running left in the run directory and its folders when they were killed mid-write;
    returns them."""
    import re

    removed = []
    for path in Path(run_dir).rglob(".*.tmp*"):
        found = re.fullmatch(r"\..+\.(\d+)\.tmp.*", path.name)
        if found and path.is_file() and int(found.group(1)) != os.getpid() \
                and not _alive(int(found.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _lock_holder(run_dir: Path) -> str:
    try:
        owner = json.loads((run_dir / LOCK_OWNER_FILE).read_text())
        # The note is text anyone can write: shown escaped (no terminal control sequences).
        shown = {key: ascii(str(owner[key]))[1:-1][:80]
                 for key in ("command", "pid", "host", "since")}
        return (f"'{shown['command']}' (process {shown['pid']} on {shown['host']}, since "
                f"{shown['since']})")
    except (OSError, ValueError, KeyError, TypeError):
        return "another infoae process"
