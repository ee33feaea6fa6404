"""Side by side: Info-autoencoders (pixel and perceptual loss) against Gatys optimisation.

On the same test pairs (content image j, style image i of another digit) and with the same
independently trained judge, each method draws "digit of j in the style of i":

- transfer_acc: the judge (``infoae.evaluation.judge``: real training images only) reads j's
  label in the result;
- factor_error: style factors of the result against those of the style image i (MNIST:
  Morpho-MNIST thickness, slant, width, height; SynDigits: colours, scale and rotation read by
  a regressor trained on real images), as a ratio to the error of a random real test image
  of j's digit (1 = style not kept, 0 = kept exactly);
- gram_style_loss: the loss network's style loss between result and style image (the
  quantity Gatys minimises; shown for reference, not as a fair score);
- fdd: Frechet distance of judge features, results against real test images;
- seconds per image, measured after a warm-up call, on all pairs in batches and on one pair
  at a time (the median of 5; Johnson et al.'s comparison), and the speed ratios to Gatys.

A reference row scores a random real test image of the content digit the same way.
"""

from __future__ import annotations

import time

import numpy as np

from infoae.data import DigitData, to_float
from infoae.evaluation.factors import FactorSource, factor_error
from infoae.evaluation.judge import judge_features, judge_labels, train_judge
from infoae.evaluation.metrics import frechet_distance
from infoae.model.classifiers import predict, predict_in_batches
from infoae.model.perceptual import PerceptualLoss
from infoae.tables import markdown_table
from infoae.transfer.gatys import Gatys, infoae_transfer


def transfer_pairs(labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """count (content, style) index pairs of the test split whose digits differ."""
    rng = np.random.default_rng(seed)
    contents = rng.choice(len(labels), count, replace=count > len(labels))
    styles = rng.choice(len(labels), count, replace=count > len(labels))
    same = labels[contents] == labels[styles]
    while same.any():
        styles[same] = rng.choice(len(labels), int(same.sum()))
        same = labels[contents] == labels[styles]
    return contents, styles


def timed(function, *args, warmup=None):
    """(result, seconds) of function(*args), after one warm-up call on warmup args."""
    if warmup is not None:
        function(*warmup)
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def single_pair_latency(method, contents, styles, repeats: int = 5) -> float:
    """Median seconds of method(content, style) on one pair at a time (after a warm-up)."""
    method(contents[:1], styles[:1])
    seconds = [timed(method, contents[i:i + 1], styles[i:i + 1])[1] for i in range(repeats)]
    return float(np.median(seconds))


class Scorer:
    """The common yardsticks of one comparison: judge, factor source, loss network."""

    def __init__(self, data: DigitData, network, perceptual, seed: int, judge_epochs: int = 3):
        self.data, self.seed = data, seed
        self.judge, self.judge_validation_acc = train_judge(data, judge_epochs, seed)
        self.features = judge_features(self.judge)
        self.factors = FactorSource(data, seed) if FactorSource.available(data) else None
        self.loss = PerceptualLoss(network, perceptual)
        test_images = to_float(data.test[0])
        self.test_features = predict(self.features, test_images)
        if self.factors:
            columns = self.factors.swap_columns()
            self.test_factors = self.factors.real("test", len(data.test[1]))[:, columns]

    def score(self, results, style_images, style_index, target_labels) -> dict:
        scores = {"transfer_acc": float(np.mean(judge_labels(self.judge, results) == target_labels))}
        if self.factors:
            generated = self.factors.read_swap_factors(results)
            _, _, ratio = factor_error(generated, self.test_factors[style_index], target_labels,
                                       self.test_factors, self.data.test[1], self.seed)
            scores["factor_error"] = float(np.mean(ratio))
            scores["factor_error_per_factor"] = dict(zip(self.factors.swap_names,
                                                         map(float, ratio)))
        scores["gram_style_loss"] = float(np.mean(predict_in_batches(
            lambda r, s: self.loss.losses(r, self.loss.targets(s, s))["style"],
            results, style_images, batch_size=500)))
        scores["fdd"] = frechet_distance(predict(self.features, results),
                                         self.test_features)
        return scores


REFERENCE = "real image of the content digit"


def compare_methods(data: DigitData, runs: dict, network, config, pairs: int,
                    gatys_batch: int = 100, seed: int = 0, judge_epochs: int = 3,
                    gatys_variants: dict | None = None) -> dict:
    """Score each run in runs ({name: Run}) and Gatys (config.perceptual, config.transfer)
    on the same pairs; returns the report with the rows, the pairs and the settings.

    gatys_variants ({name: config}) adds a Gatys row per config (other settings to compare);
    speed-ups are against the main Gatys row.
    """
    content_index, style_index = transfer_pairs(data.test[1], pairs, seed)
    test = to_float(data.test[0])
    contents, styles = test[content_index], test[style_index]
    targets = data.test[1][content_index]
    scorer = Scorer(data, network, config.perceptual, seed, judge_epochs)
    rows, results = {}, {}
    for name, run in runs.items():
        results[name], seconds = timed(infoae_transfer, run, contents, styles,
                                       warmup=(run, contents[:10], styles[:10]))
        rows[name] = {"seconds_per_image": seconds / pairs,
                      "latency_s": single_pair_latency(
                          lambda c, s, run=run: infoae_transfer(run, c, s), contents, styles)}
    for name, variant in {"Gatys": config, **(gatys_variants or {})}.items():
        results[name], rows[name] = _run_gatys(network, variant, contents, styles, gatys_batch)
    rows["Gatys"]["latency_s"] = single_pair_latency(
        Gatys(network, config.perceptual, config.transfer), contents, styles)
    rng = np.random.default_rng(seed + 1)
    results[REFERENCE] = test[[rng.choice(np.flatnonzero(data.test[1] == t)) for t in targets]]
    for name, images in results.items():
        rows.setdefault(name, {}).update(scorer.score(images, styles, style_index, targets))
        if "seconds_per_image" in rows[name]:
            rows[name]["speedup_vs_gatys"] = (rows["Gatys"]["seconds_per_image"]
                                              / rows[name]["seconds_per_image"])
        if "latency_s" in rows[name]:
            rows[name]["latency_speedup_vs_gatys"] = (rows["Gatys"]["latency_s"]
                                                      / rows[name]["latency_s"])
    return {"rows": rows, "results": results, "content_images": contents, "style_images": styles,
            "pairs": {"content": content_index, "style": style_index},
            "judge_validation_acc": scorer.judge_validation_acc,
            "settings": {"pairs": pairs, "gatys_batch": gatys_batch, "seed": seed,
                         "judge_epochs": judge_epochs, "dataset": data.name,
                         "data_source": data.source, "transfer": vars(config.transfer),
                         "perceptual": vars(config.perceptual),
                         "style_factors": list(scorer.factors.swap_names) if scorer.factors
                         else []}}


def _run_gatys(network, config, contents, styles, batch_size):
    """Gatys results on all pairs in batches; and the row's timing and loss entries."""
    gatys = Gatys(network, config.perceptual, config.transfer)
    gatys(contents[:2], styles[:2])  # Warm-up: traces the loss and its gradient.
    batches, seconds = timed(lambda: [gatys(contents[i:i + batch_size], styles[i:i + batch_size])
                                      for i in range(0, len(contents), batch_size)])
    row = {"seconds_per_image": seconds / len(contents),
           "loss_start": float(np.mean([r["start"]["loss"] for _, r in batches])),
           "loss_end": float(np.mean([r["end"]["loss"] for _, r in batches]))}
    return np.concatenate([images for images, _ in batches]), row


def format_comparison(report: dict) -> str:
    """A markdown table of compare_methods' rows."""
    has_factors = any("factor_error" in row for row in report["rows"].values())
    header = ["method", "transfer acc", *(["factor error"] if has_factors else []),
              "Gram style loss", "FDD", "s / image (batched)", "speed-up vs Gatys",
              "s for one pair", "speed-up, one pair"]
    body = []
    for name, row in report["rows"].items():
        cells = [name, f"{row['transfer_acc']:.3f}"]
        if has_factors:
            cells.append(f"{row['factor_error']:.3f}")
        cells += [f"{row['gram_style_loss']:.3f}", f"{row['fdd']:.1f}",
                  f"{row['seconds_per_image']:.2e}" if "seconds_per_image" in row else "-",
                  f"{row['speedup_vs_gatys']:.0f}x" if "speedup_vs_gatys" in row else "-",
                  f"{row['latency_s']:.2e}" if "latency_s" in row else "-",
                  f"{row['latency_speedup_vs_gatys']:.0f}x" if "latency_speedup_vs_gatys" in row
                  else "-"]
        body.append(cells)
    lines = markdown_table(header, body)
    s = report["settings"]
    lines.append(f"\n{s['pairs']} pairs (content and style of different digits) from the "
                 f"{s['dataset']} test split; judge validation accuracy "
                 f"{report['judge_validation_acc']:.4f}; Gatys: {s['transfer']['optimizer']} "
                 f"x {s['transfer']['steps']} from the {s['transfer']['init']} image, batches "
                 f"of {s['gatys_batch']}.")
    return "\n".join(lines)


def comparison_grid(report: dict, rows: int = 8) -> tuple[np.ndarray, list[str]]:
    """(rows, columns, H, W, C) images: content, style, then each method's result."""
    names = [n for n in report["results"] if n != REFERENCE and not n.startswith("Gatys (")]
    columns = [report["content_images"][:rows], report["style_images"][:rows]]
    columns += [report["results"][n][:rows] for n in names]
    return np.stack(columns, axis=1), ["content", "style", *names]
