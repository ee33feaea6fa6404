"""What is trained: the networks ([model]), the losses ([loss]), the adversary ([adversary]) and
the settings of the field's other methods ([baseline])."""

from __future__ import annotations

from dataclasses import dataclass, field

from infoae.config.check import check


MODEL_KINDS = ("infoae", "cyclevae", "lord")


@dataclass
class ModelConfig:
    # The method: "infoae" (the Info-autoencoder), or one of the field's methods trained and
    # scored beside it: "cyclevae" (Jha et al. 2018's cycle-consistent VAE) or "lord" (Gabbay
    # and Hoshen 2020's latent optimisation); their settings are in [baseline]
    # (infoae.model.baselines). The other [model] keys shape every method's encoder and
    # generator alike.
    kind: str = "infoae"
    # Size of the style code (the encoder's last dense layer).
    style_dim: int = 6
    # Channels of the encoder's three stride-2 convolutions (5x5, 5x5, 3x3).
    encoder_filters: list[int] = field(default_factory=lambda: [32, 64, 128])
    # Width of the encoder's first dense layer (the second one is the style code).
    encoder_dense: int = 256
    # Channels of the generator's three stride-2 transposed convolutions.
    # The default halves the paper's 128, 64, 32 (configs/paper.toml keeps them): 1.8x the
    # training speed on a 2-core CPU (docs/speed.md).
    generator_filters: list[int] = field(default_factory=lambda: [64, 32, 16])
    # Kernel size of the generator's upsampling convolutions.
    generator_kernel: int = 4
    # How the generator doubles the resolution: "transpose" (stride-2 transposed convolutions,
    # the paper's) or "resize" (nearest-neighbour upsampling, then a stride-1 convolution;
    # Odena et al. 2016, free of checkerboard artefacts, about 2.25x the FLOPs at kernel 3
    # against kernel 4 transposed).
    generator_upsample: str = "transpose"
    # Hidden width of the adversary (two dense layers: hidden, then the 10 classes).
    adversary_hidden: int = 256
    # Channels of the content head's two convolution pairs (3x3, then 3x3 stride 2 in each).
    content_filters: list[int] = field(default_factory=lambda: [32, 64])
    # Width of the content head's dense layer before its class logits.
    content_dense: int = 256
    # Dropout before the content head's output layer.
    content_dropout: float = 0.3
    # In training, the content head sees each real image shifted by a random whole number of
    # pixels, up to this many in each direction (zero fill); 0 = off. An augmentation of the
    # classifier alone: the autoencoder's losses use the unshifted images.
    content_shift: int = 2
    # Variational style code: the encoder predicts a mean and a log-variance, training samples
    # the code (reparameterisation) and a KL term (loss.kl) bounds what it can carry. Inference
    # uses the mean. False gives the paper's plain deterministic code.
    variational: bool = True
    # Class-conditional style encoder q(z | x, y): the encoder's dense layers also get the
    # one-hot label (the true one in training, the content head's prediction at inference),
    # so the code can hold style relative to the class ("wide for a 1") instead of absolute
    # features that give the class away. False is the paper's image-only encoder.
    conditional_encoder: bool = True
    # After training, code dimensions that carry less than this many nats about the image
    # (I_d = 0.5 ln(1 + Var_x[mean_d] / E_x[var_d]), measured on training images) are set to
    # the prior mean 0 in the style code. Their posterior is the prior: the generator sees
    # only noise there and ignores them, but their means drift freely and leak the class to
    # a probe. 0 keeps every dimension. Variational codes only. 0.5 (0.1 before): a dimension
    # the encoder barely uses (0.11 nats, its mean's spread half its noise) holds mostly
    # noise, which the class map then stretches to unit spread in every class (measured:
    # style consistency 0.154 with it, 0.047 without; docs/results.md).
    prune_nats: float = 0.5
    # After training (and pruning), map each class's style codes to one common distribution
    # with an invertible per-class map fitted on training codes, so the code's distribution no
    # longer tells the class: "gaussian" (iterative Gaussianization: every class's codes follow
    # N(0, I)), "moments" (the same mean and covariance for every class) or "none". Generating
    # applies the inverse map for the requested label (infoae.model.class_map). "auto":
    # "gaussian" when every class has 1,000 or more training codes to fit it on, else "none".
    class_map: str = "auto"

    def validate(self) -> None:
        check("model.kind", self.kind in MODEL_KINDS, " or ".join(repr(k) for k in MODEL_KINDS))
        check("model.style_dim", self.style_dim >= 1, "an integer >= 1")
        check("model.prune_nats", self.prune_nats >= 0.0, "a number >= 0")
        check("model.class_map",
              self.class_map in ("auto", "none", "gaussian", "moments"),
              "'auto', 'none', 'gaussian' or 'moments'")
        for key in ("encoder_filters", "generator_filters"):
            value = getattr(self, key)
            check(f"model.{key}", len(value) == 3 and all(v >= 1 for v in value),
                   "a list of three positive integers")
        check("model.encoder_dense", self.encoder_dense >= 1, "an integer >= 1")
        check("model.content_filters",
              len(self.content_filters) == 2 and all(v >= 1 for v in self.content_filters),
              "a list of two positive integers")
        check("model.content_dense", self.content_dense >= 1, "an integer >= 1")
        check("model.generator_kernel", self.generator_kernel in (2, 3, 4, 5), "2, 3, 4 or 5")
        check("model.generator_upsample", self.generator_upsample in ("transpose", "resize"),
               "'transpose' or 'resize'")
        check("model.adversary_hidden", self.adversary_hidden >= 1, "an integer >= 1")
        check("model.content_dropout", 0.0 <= self.content_dropout < 1.0, "in [0, 1)")
        check("model.content_shift", 0 <= self.content_shift <= 8, "an integer in [0, 8]")


@dataclass
class LossConfig:
    # Weight of the pixel reconstruction loss (mean squared error, paper formula 1).
    reconstruction: float = 10.0
    # Weight of the content head's cross-entropy (paper formula 2).
    content: float = 0.1
    # Weight of the adversary's cross-entropy; the gradient-reversal layer turns it into a
    # penalty on class information in the style code (0 switches the adversary off).
    adversary: float = 0.3
    # Weight of the KL term of a variational style code (ignored when model.variational=false).
    kl: float = 0.003
    # Weight of the class-independence penalty on the style code: the squared MMD between each
    # class's codes and all codes of the batch (Louizos et al.'s VFAE). Unlike the adversary it
    # has no moving target; 0 switches it off.
    independence: float = 3.0
    # Information term: the content head, frozen for this term and never trained on generated
    # images, must recognise label j in generate(style_i, j) for a random j (InfoGAN-style).
    info: float = 0.05
    # Reverse cycle consistency (Jha et al. 2018): draw a code z from the prior N(0, I) and a
    # random label y, re-encode generate(z, y) with label y; the L1 distance to z. Code
    # dimensions the generator ignores cannot be recovered, so their means are pulled to 0
    # (a constant carries no class information).
    cycle: float = 0.0
    # Label the generator is fed in training: "true" (the dataset label, as the paper allows)
    # or "predicted" (the content head's prediction, the image-only pipeline).
    generator_label: str = "true"
    # Johnson et al.'s perceptual losses on the reconstruction, through the frozen loss
    # network of [perceptual] (0 = off): feature reconstruction at perceptual.content_layer,
    # Gram-matrix style reconstruction over perceptual.style_layers, and total variation.
    # They add to the pixel loss; reconstruction = 0 trains with them instead of it.
    perceptual_content: float = 0.0
    perceptual_style: float = 0.0
    tv: float = 0.0
    # Gram style loss on swaps: generate(style of image i, random label j) against image i,
    # through the same loss network and layers (0 = off).
    swap_style: float = 0.0
    # Swap cycle: re-encode the swap generate(code_i, j) with label j; the squared distance
    # of its mean to code_i's mean (held fixed), over the mean squared distance between two
    # codes of the batch (0 = off). It trains what style consistency measures: a swap keeps its
    # source's style, read alike for every class; shrinking the code cannot lower it.
    swap_cycle: float = 0.0

    def validate(self) -> None:
        for key in ("reconstruction", "content", "adversary", "kl", "independence", "info",
                    "cycle", "perceptual_content", "perceptual_style", "tv", "swap_style",
                    "swap_cycle"):
            check(f"loss.{key}", getattr(self, key) >= 0.0, "a number >= 0")
        check("loss.generator_label", self.generator_label in ("true", "predicted"),
               "'true' or 'predicted'")


@dataclass
class AdversaryConfig:
    # Gradient-reversal strength schedule: "dann" ramps lambda as 2/(1+exp(-10 p))-1 over
    # training progress p (Ganin and Lempitsky), "constant" uses lambda_max from the start.
    schedule: str = "dann"
    # Final gradient-reversal strength lambda.
    lambda_max: float = 1.0
    # Extra adversary-only updates per training step, on the current (frozen) style codes,
    # so the adversary stays a strong classifier of whatever the code leaks.
    extra_steps: int = 5
    # Learning rate of the adversary's own optimizer (Adam) for the extra updates.
    learning_rate: float = 0.003
    # Which code the adversary and the independence penalty see: "mean" (the posterior mean,
    # the code the probes read) or "sample" (the sampled code the generator is fed in
    # training; dimensions drowned in noise then carry no signal for the adversary, and the KL
    # term alone pulls their means to 0). Only differs for a variational code.
    code: str = "mean"
    # Re-initialise the adversary (its weights and its optimizer's state) at the start of
    # every N-th epoch (0 = never). The encoder learns to fool the classifier it trains
    # against; a fresh one reads the class wherever the old one had been fooled, as a fresh
    # probe does (Elazar and Goldberg 2018).
    reset_epochs: int = 0

    def validate(self) -> None:
        check("adversary.schedule", self.schedule in ("dann", "constant"), "'dann' or 'constant'")
        check("adversary.lambda_max", self.lambda_max >= 0.0, "a number >= 0")
        check("adversary.extra_steps", 0 <= self.extra_steps <= 20, "an integer in [0, 20]")
        check("adversary.learning_rate", 0.0 < self.learning_rate < 1.0, "in (0, 1)")
        check("adversary.code", self.code in ("mean", "sample"), "'mean' or 'sample'")
        check("adversary.reset_epochs", self.reset_epochs >= 0, "an integer >= 0 (0 = never)")




@dataclass
class BaselineConfig:
    """Settings of the field's other methods (model.kind = "cyclevae" or "lord"); the
    Info-autoencoder ignores them. Defaults are the methods' published MNIST settings where
    they exist (see docs/baselines.md)."""
    # Size of the content code: the cycle-consistent VAE's specified code, LORD's class
    # embedding (Jha et al.'s MNIST setting: 16 style, 16 specified).
    content_dim: int = 16
    # Cycle-consistent VAE: weight of each of a pair's two swapped reconstructions (pixel MSE),
    # of the KL term (summed over code dimensions, divided by the pixels per image, as in the
    # authors' code) and of the reverse cycle (L1 between the style means re-encoded from
    # generate(z ~ prior, class code of image 1) and of image 2; gradients to the encoder only).
    reconstruction: float = 2.0
    kl: float = 3.0
    reverse_cycle: float = 10.0
    # Cycle-consistent VAE: train the two cycles as the authors do, as separate steps, each
    # on a batch of its own with an Adam optimizer of its own (the reverse cycle's step after
    # the forward cycle's); false: one batch and one Adam step for both.
    separate_cycles: bool = False
    # LORD: standard deviation of the Gaussian noise added to the per-image codes in the
    # latent optimisation, and the weight of their activation decay (L2).
    noise_std: float = 1.0
    decay: float = 0.001
    # LORD: learning rate of the latent codes (per-image codes and class embeddings); the
    # generator and the encoders use train.learning_rate. Each image's code gets one update
    # per epoch, so this sets how far codes can move in the epochs there are (LORD: 3e-3 over
    # 200 epochs; the shipped config scales it to its epochs). Realised with one Adam
    # optimizer by learning the codes scaled down by train.learning_rate / this.
    latent_learning_rate: float = 0.003
    # LORD: weight of the loss network's feature loss beside the pixel L1 in the
    # reconstruction (the perceptual loss; [perceptual] names the network and its layer;
    # 0 = pixels only).
    perceptual: float = 1.0
    # LORD: the last N of train.epochs train the amortised encoders (and fine-tune the
    # generator) instead of the latent optimisation; at least 1, fewer than train.epochs.
    amortise_epochs: int = 2

    def validate(self) -> None:
        check("baseline.content_dim", self.content_dim >= 1, "an integer >= 1")
        check("baseline.latent_learning_rate", 0.0 < self.latent_learning_rate < 10.0,
              "in (0, 10)")
        for key in ("reconstruction", "kl", "reverse_cycle", "noise_std", "decay", "perceptual"):
            check(f"baseline.{key}", getattr(self, key) >= 0.0, "a number >= 0")
        check("baseline.amortise_epochs", self.amortise_epochs >= 1, "an integer >= 1")
