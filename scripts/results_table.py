"""Print a markdown table of the metrics of one or more evaluated run directories.

    python3 scripts/results_table.py outputs/mnist outputs/other-run
"""

import json
import sys
from pathlib import Path

COLUMNS = ("content_acc", "style_leak_linear", "style_leak_mlp", "swap_acc", "style_consistency",
           "recon_mse", "recon_psnr")


def row(run_dir: Path) -> str:
    report = json.loads((run_dir / "metrics.json").read_text())
    info = json.loads((run_dir / "run.json").read_text())
    values = [f"{report['metrics'][name]:.4f}" for name in COLUMNS]
    code = report.get("style_code", {})
    kept = len(code.get("dims_kept", [])) or "-"
    all_dims = code.get("leak_mlp_all_dims", report["metrics"]["style_leak_mlp"])
    return "| " + " | ".join([run_dir.name, *values, f"{kept}", f"{all_dims:.4f}",
                              f"{info.get('train_seconds', 0):.0f}",
                              f"{report['judge']['test_acc']:.4f}"]) + " |"


def main(run_dirs) -> None:
    header = ["run", *COLUMNS, "dims kept", "leak_mlp all dims", "train s", "judge acc"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for run_dir in run_dirs:
        print(row(Path(run_dir)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
