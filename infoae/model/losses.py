"""Every loss of the Info-autoencoder: one table of names and weights, and the functions.

``TERMS`` lists each loss with the [loss] key of its weight. A term whose weight is 0 is not
computed, not tracked and not shown. Per-sample losses of a batch:

- reconstruction: pixel MSE of generate(code, label) against the image (paper formula 1);
- content_ce: the content head's cross-entropy (formula 2);
- adversary_ce: the adversary's cross-entropy; behind the gradient-reversal layer it pushes
  the encoder to remove class information from the style code (the paper's network B);
- kl: KL divergence of a variational style code from N(0, I);
- independence: squared MMD between each class's codes and all codes (VFAE);
- cycle: L1 between a prior code and the re-encoded generate(prior code, random label);
- perceptual_content, perceptual_style, tv: Johnson et al.'s losses of the reconstruction;
- info (swap term): the frozen content head must read label j in generate(code_i, j);
- swap_style (swap term): Gram style loss of that swap against image i;
- swap_cycle (swap term): squared distance between code_i and the re-encoded
  generate(code_i, j), read with label j, relative to the codes' spread (style consistency).
Swap terms have their own gradient set: the encoder and the generator only.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import ops

from infoae.config import Config
from infoae.model.layers import random_shift


@dataclass(frozen=True)
class LossTerm:
    name: str           # the name in logs and the progress bar
    weight_key: str     # its weight in the [loss] section
    swap: bool = False  # computed on swaps, with the encoder's and generator's gradients only


TERMS = (LossTerm("reconstruction", "reconstruction"), LossTerm("content_ce", "content"),
         LossTerm("adversary_ce", "adversary"), LossTerm("kl", "kl"),
         LossTerm("independence", "independence"), LossTerm("cycle", "cycle"),
         LossTerm("perceptual_content", "perceptual_content"),
         LossTerm("perceptual_style", "perceptual_style"), LossTerm("tv", "tv"),
         LossTerm("info", "info", swap=True), LossTerm("swap_style", "swap_style", swap=True),
         LossTerm("swap_cycle", "swap_cycle", swap=True))


def loss_weights(config: Config) -> dict[str, float]:
    """The weight of every term that is on (weight > 0), by name, in the order of TERMS."""
    weights = {t.name: float(getattr(config.loss, t.weight_key)) for t in TERMS}
    if not config.model.variational:
        weights["kl"] = 0.0
    return {name: w for name, w in weights.items() if w > 0}


def weighted_sum(per_sample: dict, weights: dict, swap: bool = False):
    """Per-sample sum of weight * loss over the (swap or non-swap) terms that are on."""
    names = [t.name for t in TERMS if t.swap == swap and t.name in weights]
    # Zeros shaped like the batch, so that a sum with no term on is still per sample.
    total = ops.zeros_like(next(iter(per_sample.values())))
    for name in names:
        total = total + weights[name] * per_sample[name]
    return total


def uses_loss_network(config: Config) -> bool:
    """Whether training needs the perceptual loss network (loss.perceptual_* > 0, or LORD's
    perceptual reconstruction)."""
    if config.model.kind != "infoae":
        return config.model.kind == "lord" and config.baseline.perceptual > 0
    return any(n in loss_weights(config) for n in ("perceptual_content", "perceptual_style",
                                                    "swap_style"))


def class_mmd(codes, labels, num_classes: int, bandwidths=(0.25, 1.0, 4.0)):
    """Per-sample share of the squared MMD between each class's codes and all codes.

    Codes are standardised per dimension over the batch first (so shrinking the code cannot
    lower the penalty); the kernel is a sum of Gaussian kernels with the given bandwidths
    (squared distances divided by the code size). The batch mean of the returned vector is
    sum_c (n_c / n) * MMD^2(codes of class c, all codes), the VFAE independence penalty.
    """
    codes = (codes - ops.mean(codes, axis=0)) / (ops.std(codes, axis=0) + 1e-4)
    dim = ops.cast(ops.shape(codes)[-1], codes.dtype)
    sq_norms = ops.sum(ops.square(codes), axis=-1)
    distances = (sq_norms[:, None] + sq_norms[None, :] - 2.0 * codes @ ops.transpose(codes)) / dim
    kernel = sum(ops.exp(-distances / (2.0 * b)) for b in bandwidths)
    # Unbiased: pairs of a code with itself (kernel value len(bandwidths)) are left out.
    self_kernel = float(len(bandwidths))
    one_hot = ops.one_hot(ops.cast(labels, "int32"), num_classes)
    counts = ops.sum(one_hot, axis=0)
    n = ops.cast(ops.shape(codes)[0], codes.dtype)
    class_sums = ops.transpose(one_hot) @ kernel
    within = ((ops.diagonal(class_sums @ one_hot) - counts * self_kernel)
              / ops.maximum(counts * (counts - 1.0), 1.0))
    cross = (ops.sum(class_sums, axis=-1) - counts * self_kernel) / ops.maximum(counts * (n - 1.0), 1.0)
    total = (ops.sum(kernel) - n * self_kernel) / (n * (n - 1.0))
    per_class = ops.where(counts > 1, within - 2.0 * cross + total, 0.0)
    return ops.ones_like(codes[:, 0]) * ops.sum(counts / n * per_class)


def _cross_entropy(labels, logits):
    return keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def batch_losses(model, images, labels, training: bool):
    """Per-sample losses of one batch (the non-swap terms that are on), the accuracies of the
    content head and the adversary, the codes fed to the generator, the codes' means (the
    style code of inference) and the code the adversary watches."""
    cfg, weights = model.config, model.loss_weights
    outputs = model.encoder_outputs(images, labels, training)
    if cfg.model.variational:
        mean, log_var = outputs
        log_var = ops.clip(log_var, -10.0, 10.0)
        noise = keras.random.normal(ops.shape(mean), seed=model.seed_generator)
        codes = mean + ops.exp(0.5 * log_var) * noise if training else mean
        kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
    else:
        mean = codes = outputs[0]
        kl = None
    shift = cfg.model.content_shift
    content_input = random_shift(images, shift, model.seed_generator) if training and shift else images
    content_logits = model.content_head(content_input, training=training)
    if cfg.loss.generator_label == "true":
        generator_labels = labels
    else:
        generator_labels = ops.argmax(ops.stop_gradient(content_logits), axis=-1)
    recon = model.generate(codes, generator_labels, training=training)
    watched = codes if cfg.adversary.code == "sample" else mean
    adversary_logits = model.adversary(watched, training=training)
    per_sample = {"reconstruction": ops.mean(ops.square(recon - images), axis=(1, 2, 3)),
                  "content_ce": _cross_entropy(labels, content_logits),
                  "adversary_ce": _cross_entropy(labels, adversary_logits)}
    if "kl" in weights:
        per_sample["kl"] = kl
    if "independence" in weights:
        per_sample["independence"] = class_mmd(watched, labels, model.num_classes)
    if "cycle" in weights:
        per_sample["cycle"] = cycle_loss(model, ops.shape(images)[0], training)
    per_sample.update(perceptual_losses(model, images, recon))
    accuracy = {
        "content_acc": ops.cast(ops.argmax(content_logits, -1) == labels, "float32"),
        "adversary_acc": ops.cast(ops.argmax(adversary_logits, -1) == labels, "float32"),
    }
    return per_sample, accuracy, codes, mean, watched


def cycle_loss(model, batch_size, training: bool):
    """L1 distance between prior codes z and the re-encoded generate(z, random label)."""
    prior = keras.random.normal((batch_size, model.config.model.style_dim),
                                seed=model.seed_generator)
    targets = keras.random.randint((batch_size,), 0, model.num_classes, seed=model.seed_generator)
    drawn = model.generate(prior, targets, training=training)
    recovered = model.encoder_outputs(drawn, targets, training)[0]
    return ops.mean(ops.abs(recovered - prior), axis=-1)


def perceptual_losses(model, images, recon) -> dict:
    """Johnson et al.'s losses of the reconstruction (the terms that are on): the real image is
    both the content (feature) target and the style (Gram) target."""
    from infoae.model.perceptual import total_variation

    weights = model.loss_weights
    losses = {}
    if model.perceptual is not None and ("perceptual_content" in weights
                                         or "perceptual_style" in weights):
        values = model.perceptual.losses(recon, model.perceptual.targets(images, images))
        losses = {"perceptual_content": values["content"], "perceptual_style": values["style"]}
    if "tv" in weights:
        losses["tv"] = total_variation(recon)
    return {name: value for name, value in losses.items() if name in weights}


def swap_losses(model, images, codes, means) -> dict:
    """Losses of swaps generate(code_i, random label j), which have no target image:

    - info: cross-entropy of the (frozen) content head, which must read label j;
    - swap_style: the Gram style loss between the swap and its style source image i
      (Johnson et al.'s style reconstruction; Gram matrices ignore where strokes are, so a 7
      drawn in the style of a 3 can match its thickness and colours);
    - swap_cycle: the squared distance between the mean of code_i (held fixed) and the mean
      the encoder reads from the swap with label j, over the mean squared distance between two
      codes of the batch (style consistency, trained): the swap must keep the style it was
      drawn with, and the encoder must read the same style whatever the class.
    Empty when all are off.
    """
    weights = model.loss_weights
    if not any(name in weights for name in ("info", "swap_style", "swap_cycle")):
        return {}
    batch_size = ops.shape(codes)[0]
    targets = keras.random.randint((batch_size,), 0, model.num_classes, seed=model.seed_generator)
    swapped = model.generate(codes, targets, training=True)
    losses = {}
    if "info" in weights:
        losses["info"] = _cross_entropy(targets, model.content_head(swapped, training=False))
    if model.perceptual is not None and "swap_style" in weights:
        style = model.perceptual.targets(images, images)
        losses["swap_style"] = model.perceptual.losses(swapped, style)["style"]
    if "swap_cycle" in weights:
        recovered = model.encoder_outputs(swapped, targets, True)[0]
        # Over the mean squared distance between two codes of the batch, like style
        # consistency: shrinking the code cannot lower it.
        spread = 2.0 * ops.sum(ops.var(means, axis=0)) + 1e-6
        distance = ops.sum(ops.square(recovered - ops.stop_gradient(means)), axis=-1)
        losses["swap_cycle"] = distance / spread
    return losses
