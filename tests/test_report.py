"""The HTML report: every section, figures inline, numbers from metrics.json, no network."""

import json
import re
import shutil
import subprocess

import pytest

from infoae.cli import main
from infoae.evaluation.targets import HEADLINE, value_at

SECTIONS = ("headline", "curves", "swaps", "traversals", "embedding", "dci")


def test_training_writes_a_self_contained_report(trained_run):
    page = (trained_run / "report.html").read_text()
    for section in SECTIONS:
        assert f'id="{section}"' in page, section
    # Every image is inline, and nothing is fetched from anywhere.
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', page)
    report = json.loads((trained_run / "metrics.json").read_text())
    kept = report["style_code"]["dims_kept"]
    assert [a for a in images if a.startswith("traversal")] == [
        f"traversal of dimension {d}" for d in kept]
    assert {"training curves", "swap grid", "reconstructions", "t-SNE embeddings",
            "DCI importance matrix"} <= set(images)
    # The headline numbers are metrics.json's.
    for item in HEADLINE:
        value = value_at(report, item.path)
        if value is not None:
            shown = (f"{100 * value:.2f}%" if item.percent else
                     f"{value:.1f}" if abs(value) >= 100 else f"{value:.4f}")
            assert f"<td>{item.label}</td><td class=" in page and shown in page, item.label
    assert "goals are those of mnist" in page  # The sample is marked as such.


def test_report_verb_refreshes_a_run_and_compares_runs(trained_run, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(trained_run, copy)
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.html").is_file()
    assert "Report written to" in capsys.readouterr().out
    out = tmp_path / "both.html"
    assert main(["report", str(trained_run), str(copy), "--out", str(out)]) == 0
    page = out.read_text()
    # Same settings and seed: two columns, the same figures in each, beside the goals, with
    # the runs' shared notice once, and each column's swap grid and curves side by side.
    assert page.count("<th>sample</th>") == 1 and page.count("<th>copy</th>") == 1
    assert "<th>goal</th>" in page and "these runs used a sample" in page
    assert page.count("offline 5,000-digit MNIST sample") == 1
    report = json.loads((trained_run / "metrics.json").read_text())
    content = f"{100 * report['metrics']['content_acc']:.2f}%"
    status = "met" if report["metrics"]["content_acc"] >= 0.994 else "missed"
    assert page.count(f'<td class="{status}">{content}</td>') == 2
    for what in ("swap grid", "training curves"):
        for name in ("sample", "copy"):
            assert f'<img alt="{what} of {name}" src="data:image/png;base64,' in page
    twice = tmp_path / "twice.html"  # A run named twice is one column.
    assert main(["report", str(copy), str(copy), str(trained_run), "--out", str(twice)]) == 0
    assert twice.read_text().count("<th>copy</th>") == 1
    assert main(["report", str(tmp_path / "none")]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_the_report_renders_in_a_headless_browser(trained_run, tmp_path):
    browser = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                    if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no Chromium or Chrome on this machine")
    shot = tmp_path / "page.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--screenshot={shot}", "--window-size=1200,3000",
                    (trained_run / "report.html").as_uri()], timeout=120, check=True,
                   capture_output=True)
    assert shot.is_file() and shot.stat().st_size > 10000
