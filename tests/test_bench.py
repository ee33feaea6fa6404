"""scripts/bench.py's tables (the measurements themselves are the script's to run)."""

import importlib.util

from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_the_evaluation_stages_table_shows_each_stage_cold_and_warm(capsys):
    stages = {"codes": 2.0, "judges": 300.0, "swaps": 60.0, "probes": 100.0, "factors": 70.0}
    warm = {**stages, "judges": 1.5}
    result = {"run": "outputs/mnist", "split": "test", "train_s": 900.0,
              "cold": {**stages, "evaluation": 532.0, "report": 25.0, "start": 15.0,
                       "command": 572.0},
              "warm": {**warm, "evaluation": 233.5, "report": 25.0, "start": 13.0,
                       "command": 271.5}}
    bench.print_evaluation_stages(result)
    out = capsys.readouterr().out.splitlines()
    assert "| stage | cold | warm |" in out
    assert "| judges | 300.0 | 1.5 |" in out
    assert "| the whole command | 572.0 | 271.5 |" in out
    assert "| the report (t-SNE, traversals) | 25.0 | 25.0 |" in out
    assert out[-1] == ("The job (training 900 s + the evaluate command): 1472 s cold, "
                       "1172 s warm")


def test_the_timing_waits_for_a_bfloat16_result():
    """The peak of bfloat16 is timed on a bfloat16 scalar, which a TensorFlow tensor refuses to
    np.asarray under NumPy 2.4; the timing takes the host value either way."""
    from keras import ops

    def total(x):
        return ops.sum(ops.cast(x, "bfloat16"))

    seconds = bench._best_seconds(total, ops.ones((4, 4)), tries=1)
    assert 0 < seconds < 60
    assert float(bench._wait(total(ops.ones((4, 4))))) == 16.0
