"""Benchmark: training and generation throughput, achieved FLOP/s against this machine's peak,
input-pipeline headroom, the Gatys optimisation baseline's speed against swap generation,
training speed with mixed precision (bfloat16) and XLA off and on, SynDigits rendering and
morphometrics speed, the MLP probes' speed with one BLAS thread against several, and
(optionally) time-to-target, measured side by side in one run.

    python3 scripts/bench.py                        # throughput table (a few minutes on 2 CPUs)
    python3 scripts/bench.py --time-to-target --data-dir $MNIST_DIR
    KERAS_BACKEND=jax python3 scripts/bench.py      # the same on JAX (on a GPU where JAX sees one)
    python3 scripts/bench.py --config configs/paper.toml --json outputs/bench-paper.json
    python3 scripts/bench.py --evaluate outputs/mnist --data-dir $MNIST_DIR   # evaluate's stages

Every number is measured in this process on this machine; the table is printed and written as
JSON (default outputs/bench.json). Training throughput is the steady state: the first
--warmup steps (graph tracing, first-step compile) are timed separately and left out.
FLOPs per training step are counted by TensorFlow's graph profiler on the traced train step
(convolutions, their gradients, matmuls), or on JAX by XLA's cost analysis of the compiled
step; the peak is the faster of a large matmul and a large 3x3 convolution, timed here on the
same backend, in float32 and in bfloat16: a row is compared with the peak of the precision
its layers compute in. On JAX every step is compiled, so the XLA-off variants are not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402


def _wait(result) -> np.ndarray:
    """The result on the host, once computed (JAX dispatches asynchronously). A TensorFlow
    bfloat16 scalar refuses np.asarray under NumPy 2.4 ("object __array__ method not producing
    an array"); its .numpy() gives the ml_dtypes bfloat16 value."""
    return result.numpy() if hasattr(result, "numpy") else np.asarray(result)


def _best_seconds(function, *args, tries: int = 3) -> float:
    """Fastest of `tries` timed calls, after one untimed call that traces and warms up."""
    _wait(function(*args))
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        _wait(function(*args))
        best = min(best, time.perf_counter() - start)
    return best


def _compiled(function):
    """function compiled by the backend: tf.function on TensorFlow, jax.jit on JAX."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    import tensorflow as tf

    return tf.function(function)


def peak_flops(n: int = 2048, repeats: int = 10, dtype: str = "float32") -> float:
    """FLOP/s of an n x n matmul chain in dtype (the machine's practical dense peak)."""
    from keras import ops

    rng = np.random.default_rng(0)
    a = ops.cast(rng.standard_normal((n, n), np.float32), dtype)
    b = ops.cast(rng.standard_normal((n, n), np.float32), dtype)

    def chain(a, b):
        x = a
        for _ in range(repeats):
            x = ops.matmul(x, b) * 1e-3
        return ops.sum(x)

    return 2.0 * n ** 3 * repeats / _best_seconds(_compiled(chain), a, b)


def peak_conv_flops(repeats: int = 10, dtype: str = "float32") -> float:
    """FLOP/s of a large 3x3 convolution (64 -> 64 channels on 64 images of 64x64) in dtype."""
    from keras import ops

    rng = np.random.default_rng(0)
    images = ops.cast(rng.standard_normal((64, 64, 64, 64), np.float32), dtype)
    kernel = ops.cast(rng.standard_normal((3, 3, 64, 64), np.float32) * 0.05, dtype)

    def chain(x):
        for _ in range(repeats):
            x = ops.conv(x, kernel, 1, "same")
        return ops.sum(x)

    return 2.0 * 64 * 64 * 64 * 9 * 64 * 64 * repeats / _best_seconds(_compiled(chain), images)


def step_flops(model, batch) -> float:
    """FLOPs of one training step: TensorFlow's profiler on the traced graph, or on JAX the
    compiled step's cost analysis (XLA's count)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        state = ([v.value for v in model.trainable_variables],
                 [v.value for v in model.non_trainable_variables],
                 [v.value for v in model.optimizer.variables],
                 [v.value for v in model.metrics_variables])
        compiled = jax.jit(model.train_step).lower(state, batch).compile()
        analysis = compiled.cost_analysis()
        analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
        return float(analysis.get("flops", float("nan")))
    import tensorflow as tf
    from tensorflow.python.profiler import model_analyzer, option_builder

    @tf.function
    def step(images, labels):
        return model.train_step((images, labels))

    graph = step.get_concrete_function(*batch).graph
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(model_analyzer.profile(graph, options=options).total_float_ops)


def training_throughput(config, image_shape, batch_size, warmup, steps, seed=0) -> dict:
    """Steady-state training images/s of the config's model on random images of image_shape,
    fed by infoae's own input pipeline for the backend (tf.data, or NumPy batches)."""
    import keras

    from infoae.data import training_batches
    from infoae.model.autoencoder import build_model

    rng = np.random.default_rng(seed)
    n = batch_size * (warmup + steps)
    images = rng.integers(0, 256, (n,) + tuple(image_shape), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.int32)
    model = build_model(config, image_shape, steps_per_epoch=warmup + steps)
    # Tracing the step for the profiler runs nothing: the model is still untrained after it.
    first = (images[:batch_size].astype(np.float32) / 255.0, labels[:batch_size])
    flops = step_flops(model, (keras.ops.convert_to_tensor(first[0]),
                               keras.ops.convert_to_tensor(first[1])))
    data, _ = training_batches(images, labels, batch_size, seed=seed)

    times = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter())

    start = time.perf_counter()
    model.fit(data, steps_per_epoch=warmup + steps, epochs=1, verbose=0, callbacks=[Clock()])
    # Logs are fetched every step (the callback asks), so each step is timed to its end.
    steady = times[-1] - times[warmup - 1]
    rate = batch_size * steps / steady
    return {"images_per_s": rate, "warmup_s": times[warmup - 1] - start,
            "step_ms": 1000.0 * steady / steps, "gflop_per_step": flops / 1e9,
            "achieved_gflops": flops * steps / steady / 1e9, "model": model}


def pipeline_throughput(image_shape, batch_size, batches=300, seed=0) -> float:
    """Images/s through infoae's real input pipeline (uint8 -> cached, shuffled float batches)."""
    from infoae.data import make_dataset

    rng = np.random.default_rng(seed)
    n = batch_size * 100
    images = rng.integers(0, 256, (n,) + tuple(image_shape), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    dataset = make_dataset(images, labels, batch_size, shuffle=True, seed=seed)
    if hasattr(dataset, "repeat"):  # tf.data
        iterator = iter(dataset.repeat())
        fetch = lambda index: next(iterator)  # noqa: E731
    else:  # NumPy batches (other backends)
        fetch = lambda index: dataset[index % len(dataset)]  # noqa: E731
    for index in range(110):  # One pass fills the cache.
        fetch(index)
    start = time.perf_counter()
    for index in range(batches):
        fetch(index)
    return batch_size * batches / (time.perf_counter() - start)


def swap_throughput(model, config, n: int = 4000, seed=0) -> float:
    """Images/s of the swap path users call (Run.generate on style codes and labels)."""
    from infoae.model.trained import Run

    run = Run(None, model, config)
    rng = np.random.default_rng(seed)
    codes = rng.standard_normal((n, config.model.style_dim)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    run.generate(codes[:500], labels[:500])  # Warm up.
    start = time.perf_counter()
    run.generate(codes, labels)
    return n / (time.perf_counter() - start)


def gatys_throughput(config, image_shape, n: int = 100, seed=0) -> float:
    """Images/s of Gatys et al.'s optimisation (config.transfer: L-BFGS, 100 iterations by
    default) on a batch of n pairs, through a loss network of the real architecture (its
    weights do not change the cost of an iteration); after a warm-up call that traces it."""
    import keras

    from infoae.model.perceptual import build_loss_network
    from infoae.transfer.gatys import Gatys

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    contents, styles = rng.uniform(size=(2, n) + tuple(image_shape)).astype(np.float32)
    gatys = Gatys(build_loss_network(image_shape), config.perceptual, config.transfer)
    gatys(contents[:2], styles[:2])
    start = time.perf_counter()
    gatys(contents, styles)
    return n / (time.perf_counter() - start)


def time_to_target(config, data_dir: str, content_target=0.99, swap_target=0.95) -> dict:
    """Train the config on MNIST from data_dir; wall time until the validation content accuracy
    and the judged swap accuracy both reach their targets (checked after every epoch)."""
    import keras

    from infoae.data import load_data, to_float, training_batches
    from infoae.evaluation.judge import judge_labels, train_judge
    from infoae.model.autoencoder import build_model
    from infoae.model.trained import Run

    config.data.dir = data_dir
    data = load_data(config.data, config.train.seed)
    judge, _ = train_judge(data, config.evaluate.judge_epochs, config.evaluate.seed)
    images, labels = to_float(data.validation[0]), data.validation[1]
    sources = images[:500]
    record = {"epochs": [], "reached_at_epoch": None, "reached_after_s": None}

    steps = len(data.train[1]) // config.train.batch_size
    clock = {"start": time.perf_counter(), "checks": 0.0}  # Checks are not training time.
    model = build_model(config, data.image_shape, steps)

    class Target(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            check_start = time.perf_counter()
            train_s = check_start - clock["start"] - clock["checks"]
            run = Run(None, self.model, config)
            content = float(np.mean(run.predict_content(images).argmax(1) == labels))
            swap = float(np.mean([np.mean(judge_labels(judge, swapped) == label) for label, swapped
                                  in run.each_label(run.encode_style(sources))]))
            record["epochs"].append({"epoch": epoch + 1, "wall_s": round(train_s, 1),
                                     "val_content_acc": content, "val_swap_acc": swap})
            print(f"  epoch {epoch + 1}: {train_s:.0f} s, content {content:.4f}, swap {swap:.4f}")
            if content >= content_target and swap >= swap_target:
                record["reached_at_epoch"], record["reached_after_s"] = epoch + 1, round(train_s, 1)
                self.model.stop_training = True
            clock["checks"] += time.perf_counter() - check_start

    batches, steps = training_batches(*data.train, config.train.batch_size, seed=config.train.seed)
    model.fit(batches, steps_per_epoch=steps, epochs=config.train.epochs, verbose=0,
              callbacks=[Target()])
    record["targets"] = {"val_content_acc": content_target, "val_swap_acc": swap_target}
    record["judge"] = "infoae.evaluation.judge CNN trained on the training split before the clock"
    return record


def factor_data_throughput(n_render: int = 10000, n_measure: int = 2000) -> dict:
    """Images/s of rendering SynDigits (factors included) and of Morpho-MNIST measurements."""
    from infoae.data import load_mnist_sample, syndigits
    from infoae.evaluation.morphometrics import measure

    syndigits.glyph_atlas()  # Fonts rasterised once per process; timed with the render.
    start = time.perf_counter()
    syndigits.render(n_render, seed=0)
    render = n_render / (time.perf_counter() - start)
    (images, _), _ = load_mnist_sample()
    start = time.perf_counter()
    measure(images[:n_measure])
    return {"syndigits_render_images_per_s": render,
            "morphometrics_images_per_s": n_measure / (time.perf_counter() - start)}


def probe_threads(n: int = 5000, dims: int = 16, seed: int = 0) -> dict:
    """Seconds of one MLP leakage probe (the evaluation's, on n codes of `dims` dimensions
    whose first two carry the class) with the BLAS threads the process has, and with the
    one thread the evaluation uses; and whether both give the same accuracy."""
    from threadpoolctl import threadpool_info

    from infoae.evaluation.metrics import probe_accuracy

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, 2 * n)
    codes = rng.normal(size=(2 * n, dims))
    codes[:, :2] += 0.5 * np.stack([np.cos(labels), np.sin(labels)], axis=1)
    threads = max([pool["num_threads"] for pool in threadpool_info()
                   if pool["user_api"] == "blas"], default=1)
    record = {"blas_threads": threads}
    for label, single in (("default", False), ("one_thread", True)):
        start = time.perf_counter()
        accuracy = probe_accuracy(codes[:n], labels[:n], codes[n:], labels[n:], "mlp", seed,
                                  one_thread=single)
        record[f"{label}_s"], record[f"{label}_accuracy"] = time.perf_counter() - start, accuracy
    record["speedup"] = record["default_s"] / record["one_thread_s"]
    return record


# Generator variants of --decoders (each sets every generator key, whatever the config says).
DECODERS = {
    "transpose, kernel 4, 128-64-32 (paper)": ["model.generator_upsample=transpose",
                                               "model.generator_kernel=4",
                                               "model.generator_filters=[128, 64, 32]"],
    "transpose, kernel 3, 128-64-32": ["model.generator_upsample=transpose",
                                       "model.generator_kernel=3",
                                       "model.generator_filters=[128, 64, 32]"],
    "transpose, kernel 4, 64-32-16": ["model.generator_upsample=transpose",
                                      "model.generator_kernel=4",
                                      "model.generator_filters=[64, 32, 16]"],
    "transpose, kernel 3, 64-32-16": ["model.generator_upsample=transpose",
                                      "model.generator_kernel=3",
                                      "model.generator_filters=[64, 32, 16]"],
    "resize, kernel 3, 128-64-32": ["model.generator_upsample=resize",
                                    "model.generator_kernel=3",
                                    "model.generator_filters=[128, 64, 32]"],
    "resize, kernel 3, 64-32-16": ["model.generator_upsample=resize",
                                   "model.generator_kernel=3",
                                   "model.generator_filters=[64, 32, 16]"],
}


EVALUATION_STAGES = ("codes", "judges", "swaps", "probes", "factors")


def evaluation_stages(run_dir: str, data_dir: str = "", split: str = "test") -> dict:
    """`infoae evaluate` of a copy of run_dir, cold (an empty evaluation cache: the judges,
    the factor regressor and the morphometrics computed) and then warm (the same cache), in
    subprocesses as a user runs it: each stage's seconds (metrics.json's stage_seconds), the
    evaluation's, the report's and the whole command's, and the run's training time."""
    import shutil
    import subprocess
    import tempfile

    from infoae.rundir import metrics_file, read_json, read_run_info

    info = read_run_info(run_dir)
    result = {"run": str(run_dir), "split": split, "train_s": info.get("train_seconds")}
    with tempfile.TemporaryDirectory(prefix="infoae-bench-") as scratch:
        copy = Path(scratch) / "run"
        shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("checkpoints", ".lock*"))
        command = [sys.executable, "-m", "infoae.cli", "evaluate", str(copy), "--split", split]
        command += ["--data-dir", data_dir] if data_dir else []
        env = {**os.environ, "INFOAE_CACHE": str(Path(scratch) / "cache")}
        for state in ("cold", "warm"):
            print(f"Evaluating a copy of {run_dir} ({state} cache)...", flush=True)
            started = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - started
            if done.returncode:
                raise SystemExit(f"infoae evaluate failed ({done.returncode}):\n"
                                 + done.stdout[-2000:] + done.stderr[-2000:])
            report = read_json(copy / metrics_file(split))
            page = re.search(r"^  report: (\d+) s$", done.stdout, re.M)
            page_s = float(page.group(1)) if page else 0.0
            result[state] = {**report.get("stage_seconds", {}),
                             "evaluation": report["elapsed_s"], "report": page_s,
                             "start": round(wall - report["elapsed_s"] - page_s, 1),
                             "command": round(wall, 1)}
    return result


def print_evaluation_stages(result: dict) -> None:
    print(f"\n`infoae evaluate` of {result['run']} ({result['split']} split), seconds:")
    _print_header("| stage | cold | warm |")
    names = [*EVALUATION_STAGES, "evaluation", "report", "start", "command"]
    for name in names:
        cold, warm = result["cold"].get(name), result["warm"].get(name)
        if cold is None and warm is None:
            continue
        shown = {"evaluation": "evaluation (the stages)", "command": "the whole command",
                 "report": "the report (t-SNE, traversals)",
                 "start": "start-up and loading (imports, the run, the data)"}.get(name, name)
        print(f"| {shown} | {cold:.1f} | {warm:.1f} |")
    if result.get("train_s"):
        print(f"The job (training {result['train_s']:.0f} s + the evaluate command): "
              f"{result['train_s'] + result['cold']['command']:.0f} s cold, "
              f"{result['train_s'] + result['warm']['command']:.0f} s warm")


def _print_header(header: str) -> None:
    """A markdown table's header row and its separator."""
    print(header)
    print("|---" * (header.count("|") - 1) + "|")


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def machine() -> dict:
    import keras

    from infoae.rundir.files import machine as run_machine

    info = {**run_machine(), "keras_backend": keras.backend.backend(),
            "keras": keras.__version__, "python": platform.python_version()}
    if keras.backend.backend() == "jax":
        import jax

        info.update({"jax": jax.__version__,
                     "devices": [str(d) for d in jax.devices()],
                     "gpus": [str(d) for d in jax.devices() if d.platform == "gpu"]})
    else:
        import tensorflow as tf

        info.update({"tensorflow": tf.__version__,
                     "gpus": [g.name for g in tf.config.list_physical_devices("GPU")]})
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "mnist.toml"),
                        help="config for the MNIST shape (default configs/mnist.toml)")
    parser.add_argument("--svhn-config", default=str(ROOT / "configs" / "svhn.toml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="override a key of both configs, e.g. model.generator_kernel=3")
    parser.add_argument("--warmup", type=int, default=5, help="steps left out of the timing")
    parser.add_argument("--steps", type=int, default=40, help="timed training steps")
    parser.add_argument("--time-to-target", action="store_true",
                        help="also train on MNIST until content >= 99%% and swap >= 95%%")
    parser.add_argument("--data-dir", default="", help="MNIST IDX files for --time-to-target")
    parser.add_argument("--no-variants", action="store_true",
                        help="skip the MNIST-shape rows for each precision with XLA off and on")
    parser.add_argument("--decoders", action="store_true",
                        help="also time the generator variants (kernel, width, upsampling)")
    parser.add_argument("--json", default=str(ROOT / "outputs" / "bench.json"))
    parser.add_argument("--evaluate", metavar="RUN_DIR",
                        help="instead: time each stage of `infoae evaluate` of (a copy of) "
                             "this run, cold and warm (--data-dir as for the run, --split)")
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    args = parser.parse_args(argv)

    from infoae.config import PRECISIONS, load_config

    report = {"machine": machine(), "command": " ".join(["scripts/bench.py"] + sys.argv[1:])}
    if args.evaluate:
        report["evaluation_stages"] = evaluation_stages(args.evaluate, args.data_dir, args.split)
        print_evaluation_stages(report["evaluation_stages"])
        m = report["machine"]
        print(f"Machine: {m['cpu']}, {m['cores']} cores, {', '.join(m['cpu_flags'])}, "
              f"Keras on {m['keras_backend']}")
        return _write_report(report, args.json)
    print("Measuring the peak (matmul and 3x3 convolution, float32 and bfloat16)...")
    peaks = {}
    for dtype in ("float32", "bfloat16"):
        matmul, conv = peak_flops(dtype=dtype), peak_conv_flops(dtype=dtype)
        peaks[dtype] = max(matmul, conv)
        report[f"{dtype}_matmul_gflops"], report[f"{dtype}_conv_gflops"] = matmul / 1e9, conv / 1e9
    report["peak_gflops"] = {dtype: peak / 1e9 for dtype, peak in peaks.items()}

    def of_peak(config, train) -> float:
        """Achieved FLOP/s as a fraction of the peak in the precision the layers compute in."""
        dtype = "bfloat16" if config.train.precision == "mixed_bfloat16" else "float32"
        return train["achieved_gflops"] * 1e9 / peaks[dtype]

    rows = []
    for name, path, shape in (("mnist", args.config, (28, 28, 1)),
                              ("svhn", args.svhn_config, (32, 32, 3))):
        config = load_config(path, args.overrides)
        batch = config.train.batch_size
        print(f"Training throughput, {name} shape {shape}, batch {batch}...")
        train = training_throughput(config, shape, batch, args.warmup, args.steps)
        model = train.pop("model")
        pipeline = pipeline_throughput(shape, batch)
        swap = swap_throughput(model, config)
        print(f"Gatys optimisation, {name} shape ({config.transfer.optimizer} x "
              f"{config.transfer.steps})...")
        gatys = gatys_throughput(config, shape)
        rows.append({"shape": name, "batch": batch, "precision": config.train.precision,
                     # JAX compiles every step whatever train.jit_compile says.
                     "jit_compile": config.train.jit_compile or report["machine"][
                         "keras_backend"] == "jax", **train,
                     "flops_fraction_of_peak": of_peak(config, train),
                     "pipeline_images_per_s": pipeline,
                     "pipeline_to_training_ratio": pipeline / train["images_per_s"],
                     "swap_images_per_s": swap, "gatys_images_per_s": gatys,
                     "swap_to_gatys_ratio": swap / gatys})
    def mnist_variant(overrides: list[str], label: str) -> dict:
        """Training and swap throughput of the MNIST config with these overrides."""
        config = load_config(args.config, args.overrides + overrides)
        print(f"Training throughput, mnist shape, {label}...")
        train = training_throughput(config, (28, 28, 1), config.train.batch_size,
                                    args.warmup, args.steps)
        swap = swap_throughput(train.pop("model"), config)
        return {**train, "flops_fraction_of_peak": of_peak(config, train),
                "swap_images_per_s": swap}

    variants = []
    if not args.no_variants:
        import keras

        compiled_only = keras.backend.backend() == "jax"  # JAX always compiles the step.
        for precision in PRECISIONS:
            for jit in ((True,) if compiled_only else (False, True)):
                measured = mnist_variant(
                    [f"train.precision={precision}", f"train.jit_compile={str(jit).lower()}"],
                    f"{precision}, XLA {_on(jit)}")
                variants.append({"precision": precision, "jit_compile": jit, **measured})
        for v in variants:
            v["speedup"] = v["images_per_s"] / variants[0]["images_per_s"]
    report["variants"] = variants
    decoders = []
    if args.decoders:
        for label, overrides in DECODERS.items():
            decoders.append({"generator": label, "overrides": overrides,
                             **mnist_variant(overrides, f"generator: {label}")})
    report["decoders"] = decoders
    report["rows"] = rows
    print("SynDigits rendering and morphometrics...")
    report["factor_data"] = factor_data_throughput()
    print("MLP probe with the process's BLAS threads and with one...")
    report["probe_threads"] = probe_threads()
    if args.time_to_target:
        if not args.data_dir:
            parser.error("--time-to-target needs --data-dir with the MNIST IDX files")
        print("Time to target on MNIST (content >= 99%, judged swap >= 95%)...")
        report["time_to_target"] = time_to_target(load_config(args.config, args.overrides),
                                                  args.data_dir)

    print()
    print(f"Machine: {report['machine']}")
    for dtype in peaks:
        print(f"Peak {dtype}: {peaks[dtype] / 1e9:.1f} GFLOP/s (matmul "
              f"{report[f'{dtype}_matmul_gflops']:.1f}, 3x3 convolution "
              f"{report[f'{dtype}_conv_gflops']:.1f})")
    header = ("| shape | batch | precision | XLA | train img/s | warm-up s | GFLOP/step | achieved GFLOP/s | "
              "of peak | pipeline / train | swap img/s | Gatys img/s | swap / Gatys |")
    _print_header(header)
    for r in rows:
        print(f"| {r['shape']} | {r['batch']} | {r['precision']} | {_on(r['jit_compile'])} | "
              f"{r['images_per_s']:.0f} | {r['warmup_s']:.1f} | "
              f"{r['gflop_per_step']:.2f} | {r['achieved_gflops']:.1f} | "
              f"{r['flops_fraction_of_peak']:.2f} | {r['pipeline_to_training_ratio']:.0f}x | "
              f"{r['swap_images_per_s']:.0f} | {r['gatys_images_per_s']:.1f} | "
              f"{r['swap_to_gatys_ratio']:.0f}x |")
    if variants:
        print()
        header = ("| mnist shape: precision | XLA | train img/s | speed-up | warm-up s | "
                  "achieved GFLOP/s | of its peak | swap img/s |")
        _print_header(header)
        for v in variants:
            print(f"| {v['precision']} | {_on(v['jit_compile'])} | {v['images_per_s']:.0f} | "
                  f"{v['speedup']:.2f}x | {v['warmup_s']:.1f} | {v['achieved_gflops']:.1f} | "
                  f"{v['flops_fraction_of_peak']:.2f} | {v['swap_images_per_s']:.0f} |")
    if decoders:
        print()
        header = ("| mnist shape: generator | train img/s | GFLOP/step | achieved GFLOP/s | "
                  "of peak | swap img/s |")
        _print_header(header)
        for d in decoders:
            print(f"| {d['generator']} | {d['images_per_s']:.0f} | {d['gflop_per_step']:.1f} | "
                  f"{d['achieved_gflops']:.1f} | {d['flops_fraction_of_peak']:.2f} | "
                  f"{d['swap_images_per_s']:.0f} |")
    data = report["factor_data"]
    svhn_training = rows[-1]["images_per_s"]
    print(f"SynDigits rendering: {data['syndigits_render_images_per_s']:.0f} img/s "
          f"({data['syndigits_render_images_per_s'] / svhn_training:.1f}x the svhn-shape "
          f"training speed: rendering the data set costs {svhn_training / data['syndigits_render_images_per_s'] * 100:.0f}% "
          "of one training epoch); morphometrics: "
          f"{data['morphometrics_images_per_s']:.0f} img/s")
    probe = report["probe_threads"]
    print(f"MLP leakage probe (5,000 codes): {probe['default_s']:.1f} s with "
          f"{probe['blas_threads']} BLAS threads, {probe['one_thread_s']:.1f} s with one "
          f"({probe['speedup']:.2f}x; accuracy {probe['default_accuracy']:.4f} and "
          f"{probe['one_thread_accuracy']:.4f})")
    if "time_to_target" in report:
        t = report["time_to_target"]
        if t["reached_at_epoch"]:
            print(f"Time to target: {t['reached_after_s']:.0f} s (epoch {t['reached_at_epoch']})")
        else:
            print(f"Time to target: not reached in {len(t['epochs'])} epochs")
    return _write_report(report, args.json)


def _write_report(report: dict, path: str) -> int:
    """The benchmark's JSON file; the exit status."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2))
    print(f"JSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
