"""Results as data: gather run directories' figures into results/NAME.json, and print (or
write into a docs page) the table made from that file alone.

    # add runs (ROW:METHOD:RUN_DIR), scored on a split:
    python3 scripts/results_table.py add results/like_for_like.json --split validation \
        A:infoae:outputs/rowA-seed0 A:cyclevae:outputs/cyclevae-e5-seed0
    # the table, from the file:
    python3 scripts/results_table.py render results/like_for_like.json
    # rewrite the table between <!-- results/NAME.json --> and <!-- end --> in a page:
    python3 scripts/results_table.py render results/like_for_like.json --into docs/results.md
    # a view of a file (the rows with a goal), between <!-- results/NAME.json goals --> and <!-- end -->:
    python3 scripts/results_table.py render results/syndigits_default.json --view goals --into README.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def render_into(page: Path, results_file: str, table: str, view: str = "") -> None:
    """Replace the table between the page's markers for results_file (and the view)."""
    text = page.read_text()
    marker = f"{results_file} {view}".strip()
    pattern = re.compile(rf"(<!-- {re.escape(marker)} -->\n).*?(<!-- end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{page} has no '<!-- {marker} -->' ... '<!-- end -->' markers")
    page.write_text(pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add")
    add.add_argument("results_file")
    add.add_argument("runs", nargs="+", metavar="ROW:METHOD:RUN_DIR")
    add.add_argument("--split", choices=("test", "validation"), default="test")
    add.add_argument("--about", default="")
    show = verbs.add_parser("render")
    show.add_argument("results_file")
    show.add_argument("--into", help="a markdown page with the table's markers")
    show.add_argument("--view", default="", help="goals: only the rows with a goal, in short")
    args = parser.parse_args()

    from infoae.evaluation.results import add_entries, entry, render

    if args.verb == "add":
        entries = [entry(run_dir, row, method, args.split)
                   for row, method, run_dir in (spec.split(":", 2) for spec in args.runs)]
        data = add_entries(args.results_file, entries, about=args.about)
    else:
        data = json.loads(Path(args.results_file).read_text())
    view = getattr(args, "view", "")
    table = render(data, view)
    if getattr(args, "into", None):
        render_into(Path(args.into), args.results_file, table, view)
    print(table)


if __name__ == "__main__":
    main()
