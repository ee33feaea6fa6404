"""Where the test suite's time goes: read the `--durations=0` listing of one or more pytest runs
and print markdown tables (the slowest tests and fixtures, and the total per test file).

    python3 -m pytest -q --durations=0 > tf.txt
    KERAS_BACKEND=jax python3 -m pytest -q -m backends --durations=0 > jax.txt
    python3 scripts/test_durations.py tf.txt jax.txt [--top 20]

Each listing line reads "12.34s call     tests/test_x.py::test_y"; setup lines carry the cost of
the fixtures a test is the first to need (a shared training is counted once, where it runs).
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^\s*([0-9.]+)s\s+(setup|call|teardown)\s+(\S+)")


def read(path: Path) -> list[tuple[float, str, str]]:
    """(seconds, phase, test id) of every timed phase in a pytest listing."""
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        match = LINE.match(line)
        if match:
            rows.append((float(match.group(1)), match.group(2), match.group(3)))
    return rows


def tables(name: str, rows, top: int) -> str:
    total = sum(seconds for seconds, _, _ in rows)
    out = [f"### {name}: {total:.0f} s in {len({t for _, _, t in rows})} tests", "",
           "| s | phase | test |", "|---:|---|---|"]
    for seconds, phase, test in sorted(rows, reverse=True)[:top]:
        out.append(f"| {seconds:.1f} | {phase} | `{test}` |")
    per_file = defaultdict(float)
    for seconds, _, test in rows:
        per_file[test.split("::")[0]] += seconds
    out += ["", "| s | share | file |", "|---:|---:|---|"]
    for path, seconds in sorted(per_file.items(), key=lambda item: -item[1]):
        out.append(f"| {seconds:.0f} | {seconds / max(total, 1e-9):.0%} | `{path}` |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("listings", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=20, help="slowest phases listed")
    args = parser.parse_args()
    for path in args.listings:
        rows = read(path)
        if not rows:
            raise SystemExit(f"{path}: no --durations lines found; run pytest with --durations=0")
        print(tables(str(path), rows, args.top), end="\n\n")


if __name__ == "__main__":
    main()
