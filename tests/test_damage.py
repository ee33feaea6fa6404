"""Every file of a real run directory damaged in turn (random bytes, a truncation, an emptied
or deleted file, a JSON or TOML value of the wrong type), then every verb run on it: each one
either works with the very codes and images of the undamaged run, or exits 2 with one line.
None prints a traceback, none computes with other weights or another map without saying so.

The run is a tiny one (3 epochs on 1,024 sample digits, a moments class map), trained and
evaluated once; Hypothesis draws one damage for each file (derandomised, so that CI sees the
same cases every time). `load_run`, `swap` and `compare` run on every damaged
copy; `report` runs in full on a loadable copy where the damage touched what it reads
beyond the model (metrics.json, the training log), `evaluate` where it touched what it
rewrites (metrics.json), and both run to their refusal on every copy that does not load; `train --resume` runs where the damage touched what it reads
(config.toml, run.json, the checkpoints and their index, the training log). Elsewhere a
loadable copy is the undamaged run, whose verbs the other tests cover."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import infoae
from infoae.cli import main
from infoae.errors import InfoaeError

from tests.helpers import QUICKSTART, TINY_NETS, sets

pytestmark = pytest.mark.slow

TINY = ["train.verbose=0", "train.epochs=3", "train.monitor_size=0", "data.train_limit=1024",
        "train.batch_size=64", *TINY_NETS,
        "model.class_map=moments", "model.prune_nats=0", "evaluate.judge_epochs=1",
        "evaluate.swap_size=20", "evaluate.probe_train_size=300",
        "evaluate.factor_metrics=false", 'evaluate.leak_probes=["mlp"]']
# Files the run's inference never reads that report reads, and that evaluate rewrites: damaged,
# those verbs run in full. The files train --resume reads: damaged, it runs.
REPORT_READS, EVALUATE_WRITES = ("metrics.json", "logs/training.csv"), ("metrics.json",)
RESUME_READS = ("config.toml", "run.json", "checkpoints/", "logs/training.csv")
WRONG_TYPES = ["x", 0, -1, 2.5, True, None, [], [True], {}, {"a": 1}]
# Every file a finished run holds (the fixture checks that there is no other).
FILES = ["config.toml", "run.json", "checkpoints/latest.json", "checkpoints/epoch-001.weights.h5",
         "checkpoints/epoch-002.weights.h5", "checkpoints/epoch-003.weights.h5",
         "model.weights.h5", "class_map.npz", "metrics.json", "logs/training.csv",
         "logs/tensorboard/train/*", "logs/tensorboard/validation/*", "report.html",
         "figures/swap_grid.png"]


@pytest.fixture(scope="module")
def damage_run(tmp_path_factory):
    """The run, its files, and what it computes undamaged: codes, swaps and the swap grid."""
    root = tmp_path_factory.mktemp("damage")
    run_dir = root / "run"
    assert main(["train", "--config", QUICKSTART, "--run-dir", str(run_dir), *sets(TINY)]) == 0
    assert (run_dir / "class_map.npz").is_file() or list(run_dir.glob("class_map*.npz"))
    images = infoae.data.to_float(infoae.data.load_mnist_sample()[1][0][:16])
    run = infoae.load_run(run_dir)
    reference = {"codes": run.encode_style(images),
                 "swaps": run.generate(run.encode_style(images), np.arange(16) % 10)}
    assert main(["swap", str(run_dir), "--out", str(root / "grid.png")]) == 0
    reference["grid"] = _pixels(root / "grid.png")
    files = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    assert sorted(str(p.relative_to(run_dir)) for pattern in FILES
                  for p in run_dir.glob(pattern)) == files  # Each file once, none left out.
    return _Quiet((run_dir, files, images, reference))


class _Quiet(tuple):
    """The fixture's value, shown in one short line when Hypothesis reports an example."""

    def __repr__(self) -> str:
        return f"<the tiny run {self[0]} and its {len(self[1])} files>"


def _pixels(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _wrong_type(data, value):
    """value with one field (at any depth) replaced by a value of another type."""
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        inner = value[key]
        value[key] = (_wrong_type(data, inner) if isinstance(inner, (dict, list)) and inner
                      and data.draw(st.booleans())
                      else data.draw(st.sampled_from([w for w in WRONG_TYPES
                                                      if type(w) is not type(inner)])))
    elif isinstance(value, list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        value[index] = data.draw(st.sampled_from([w for w in WRONG_TYPES
                                                  if type(w) is not type(value[index])]))
    else:
        value = data.draw(st.sampled_from(WRONG_TYPES[:4]))
    return value


def _damage(data, path: Path, index: int) -> str:
    """Damage one file as a crash, a disk or a hand could; say how. The kinds are offered in
    an order turned by the file's index, so that Hypothesis's first (simplest) draw differs
    from file to file and every kind is drawn across the run's files."""
    content = path.read_bytes()
    kinds = ["bytes", "truncate", "empty", "delete"]
    if path.suffix in (".json", ".toml"):  # Wrong types first: the likeliest hand edit.
        kinds = [f"{path.suffix[1:]} type"] + kinds[index % 4:] + kinds[:index % 4]
    else:
        kinds = kinds[index % 4:] + kinds[:index % 4]
    kind = data.draw(st.sampled_from(kinds))
    if kind == "bytes" and content:
        start = data.draw(st.integers(0, len(content) - 1).map(lambda i: (i + len(content) // 2)
                                                                % len(content)))
        noise = data.draw(st.binary(min_size=1, max_size=64))
        path.write_bytes(content[:start] + noise + content[start + len(noise):])
    elif kind == "truncate" and content:
        path.write_bytes(content[:data.draw(st.integers(0, len(content) - 1))])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "delete":
        path.unlink()
    elif kind == "json type":
        path.write_text(json.dumps(_wrong_type(data, json.loads(content))))
    elif kind == "toml type":
        lines = [i for i, line in enumerate(content.decode().splitlines())
                 if " = " in line and not line.lstrip().startswith("#")]
        index = data.draw(st.sampled_from(lines))
        text = content.decode().splitlines()
        key, value = text[index].split(" = ", 1)
        replacement = data.draw(st.sampled_from(['"x"', "-1", "[true]", "{ a = 1 }", "2.5"]))
        text[index] = f"{key} = {replacement}"
        path.write_text("\n".join(text) + "\n")
    return kind


def _verb(capsys, argv) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert code in (0, 2), (argv, code, captured.err[-2000:])
    assert "Traceback" not in captured.out + captured.err, argv
    if code == 2:
        lines = [line for line in captured.err.splitlines() if line.strip()]
        assert len(lines) == 1, (argv, captured.err)
    return code, captured.out + captured.err


@settings(max_examples=1, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
@pytest.mark.parametrize("pattern", FILES)
def test_a_damaged_file_gives_the_same_results_or_one_line(damage_run, pattern, data,
                                                           tmp_path_factory, capsys):
    run_dir, _, images, reference = damage_run
    index = FILES.index(pattern)
    name = str(next(run_dir.glob(pattern)).relative_to(run_dir))
    copy = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(run_dir, copy)
    kind = _damage(data, copy / name, index)
    note = f"{name}: {kind}"
    capsys.readouterr()
    try:
        run = infoae.load_run(copy)
    except InfoaeError as error:  # Refused: in one line, and by every verb alike.
        assert "\n" not in str(error).strip(), note
        run = None
    if run is not None:  # Loaded: then with the very weights and map of the undamaged run.
        np.testing.assert_array_equal(run.encode_style(images), reference["codes"], err_msg=note)
        np.testing.assert_array_equal(run.generate(run.encode_style(images), np.arange(16) % 10),
                                      reference["swaps"], err_msg=note)
    capsys.readouterr()
    code, _ = _verb(capsys, ["swap", str(copy), "--out", str(copy.parent / "grid.png")])
    if code == 0:
        assert run is not None, note  # A verb never loads what load_run refuses.
        np.testing.assert_array_equal(_pixels(copy.parent / "grid.png"), reference["grid"],
                                      err_msg=note)
    _verb(capsys, ["compare", str(copy)])
    if run is None or name in REPORT_READS:
        _verb(capsys, ["report", str(copy), "--out", str(copy.parent / "report.html")])
    if run is None or name in EVALUATE_WRITES:
        code, _ = _verb(capsys, ["evaluate", str(copy)])
        if code == 0:
            assert json.loads((copy / "metrics.json").read_text())["metrics"], note
    if not name.startswith(RESUME_READS):
        return
    code, said = _verb(capsys, ["train", "--resume", "--run-dir", str(copy), "--no-evaluate"])
    if code == 0 and "damaged" not in said:  # From an older checkpoint only when it says so.
        resumed = infoae.load_run(copy)
        np.testing.assert_array_equal(resumed.encode_style(images), reference["codes"],
                                      err_msg=note)
