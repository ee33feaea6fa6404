"""The verbs on several runs: infoae report (an HTML page) and infoae compare (a table)."""

from __future__ import annotations


def add_parsers(verbs) -> None:
    report = verbs.add_parser("report", help="a self-contained HTML report of a run "
                              "(RUN_DIR/report.html), or a page comparing several runs")
    report.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    report.add_argument("--out", help="HTML path (default RUN_DIR/report.html for one run, "
                        "outputs/compare-<time>.html for several)")
    report.add_argument("--data-dir", default=None, help="local data files instead of the run's")


    compare = verbs.add_parser("compare", help="a markdown table of evaluated runs side by side")
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    compare.add_argument("--out", help="also write the table to this file")
    compare.add_argument("--all", action="store_true", dest="all_columns",
                         help="every column (factor metrics, consistency, FDD, times), not "
                         "only the headline ones")
    compare.add_argument("--split", choices=("test", "validation"), default="test",
                         help="the metrics of this split (validation: written by infoae "
                         "evaluate --split validation)")


def _report(args) -> None:
    from infoae.report import write_report
    from infoae.rundir import run_lock

    if len(args.run_dirs) == 1 and args.out is None:
        with run_lock(args.run_dirs[0], "infoae report"):
            page = write_report(args.run_dirs, None, args.data_dir)
    else:
        page = write_report(args.run_dirs, args.out, args.data_dir)
    print(f"Report written to {page}")


def compare(args, run_dirs=None) -> None:
    from infoae.evaluation.compare import compare_table

    table = compare_table(run_dirs or args.run_dirs, split=getattr(args, "split", "test"),
                          all_columns=getattr(args, "all_columns", False))
    print(table)
    if args.out:
        from infoae import atomic

        atomic.write_text(args.out, table + "\n")


VERBS = {"report": _report, "compare": compare}
