"""Jha et al. 2018, "Disentangling Factors of Variation with Cycle-Consistent Variational
Auto-Encoders" (model.kind = "cyclevae"), with the Info-autoencoder's encoder body and
generator so that the methods differ in their objective only.

- The encoder gives an unspecified (style) code, variational (mean, log-variance), and a
  deterministic specified (content) code of baseline.content_dim.
- Forward cycle: every image i of a batch is paired with another image p(i) of the same class
  in the batch; the decoder draws x_i from (sampled style of x_i, specified code of x_p(i)).
  Loss: baseline.reconstruction * 2 * pixel MSE (the pair's two reconstructions, as the
  authors' code weights them) + baseline.kl * 2 * KL / pixels; gradients to encoder and
  decoder.
- Reverse cycle: a style code z ~ N(0, I) is drawn with the specified code of image i and of
  a random other image j of the batch (codes held fixed); the two drawings are re-encoded and
  the L1 distance between their style means is weighted by baseline.reverse_cycle; gradients
  to the encoder only, as in the authors' code.

The authors run the two cycles as separate steps, each on a batch of its own with an Adam
optimizer of its own: so does baseline.separate_cycles = true (the reverse cycle is a
sequential group of the training engine, on a second batch stream, after the forward cycle's
update). With false the two cycles share one batch and one Adam step (the sum of their
gradients).

Inference: ``encode_style`` is the style mean; ``generate(style, label)`` uses the class's
code, the mean specified code of the class's training images (``finalise``);
``content_head`` reads the class as the nearest of those class codes to the image's
specified code.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from infoae.model.baselines import BaselineModel, build_image_encoder, nearest_code_logits
from infoae.model.classifiers import predict_in_batches
from infoae.model.engine import Group, make_schedule
from infoae.model.networks import build_generator


def same_class_partners(labels, seed_generator):
    """For each image of the batch, a random other image of the same class (itself when it
    is its class's only image in the batch)."""
    import keras

    same = ops.cast(ops.equal(labels[:, None], labels[None, :]), "float32")
    noise = keras.random.uniform(ops.shape(same), seed=seed_generator)
    eye = ops.eye(ops.shape(labels)[0])
    # Others of the class score in [2, 3), the image itself in [0.5, 1.5), other classes 0.
    return ops.argmax(same * (noise + 2.0) - 1.5 * eye, axis=1)


class CycleVAE(BaselineModel):
    tracked = ("reconstruction", "kl", "reverse_cycle")

    def __init__(self, config, image_shape, num_classes: int = 10, total_steps: int = 1,
                 **kwargs):
        super().__init__(config, image_shape, num_classes, total_steps=total_steps, **kwargs)
        b, t = config.baseline, config.train
        self.pixels = float(np.prod(self.image_shape))
        self.encoder = build_image_encoder(
            self.image_shape, {"style_mean": config.model.style_dim,
                               "style_log_var": config.model.style_dim,
                               "specified": b.content_dim}, config, "cyclevae_encoder")
        self.generator = build_generator(self.image_shape, b.content_dim, config)
        # The mean specified code of each class's training images (set by finalise).
        self.class_codes = self.add_weight(shape=(self.num_classes, b.content_dim),
                                           initializer="zeros", trainable=False,
                                           name="class_codes")
        self.separate = bool(b.separate_cycles)
        if self.separate:
            import keras

            self.batch_streams = 2
            self.reverse_optimizer = keras.optimizers.Adam(make_schedule(
                t.learning_rate, t.lr_schedule, total_steps, t.lr_final_fraction, t.lr_step_at,
                t.lr_step_factor))

    # ------------------------------------------------------------ inference

    def encode_style(self, images, labels=None, training=False, pruned=True):
        return self.encoder(ops.convert_to_tensor(images, "float32"), training=training)[0]

    def specified(self, images, training=False):
        return self.encoder(ops.convert_to_tensor(images, "float32"), training=training)[2]

    def content_head(self, images, training=False):
        return nearest_code_logits(self.specified(images, training), self.class_codes)

    def generate(self, codes, labels, training=False):
        content = ops.take(self.class_codes, ops.cast(labels, "int32"), axis=0)
        return self.generator([ops.convert_to_tensor(codes, "float32"), content],
                              training=training)

    def finalise(self, images, labels) -> dict:
        codes = predict_in_batches(lambda x: self.specified(x), images)
        counts = np.bincount(labels, minlength=self.num_classes)
        if counts.min() == 0:
            raise ValueError(f"class {int(counts.argmin())} has no training image; the "
                             "cycle-consistent VAE needs every class's code")
        means = np.stack([codes[labels == k].mean(axis=0) for k in range(self.num_classes)])
        self.class_codes.assign(means.astype("float32"))
        return {"class_codes": f"mean specified code of {len(labels)} training images"}

    def build_all(self):
        images = ops.zeros((2,) + self.image_shape)
        self.generate(self.encode_style(images), ops.zeros((2,), "int32"))
        super().build_all()

    # ------------------------------------------------------------ training

    def own_optimizers(self) -> list:
        return [getattr(self, "reverse_optimizer", None)]

    def groups(self) -> list[Group]:
        """The forward cycle trains the encoder and the decoder, the reverse cycle the encoder
        only: jointly, or (separate_cycles) after it with its own optimizer and batch."""
        encoder = self.encoder.trainable_variables
        forward = Group("forward_cycle", encoder + self.generator.trainable_variables)
        if not self.separate:
            return [forward, Group("reverse_cycle", encoder)]
        return [forward, Group("reverse_cycle", encoder, optimizer=self.reverse_optimizer,
                               steps=1, loss=self._reverse_group_loss, stream=1)]

    def loss_groups(self, images, labels, training: bool):
        import keras

        b = self.config.baseline
        images = ops.convert_to_tensor(images, "float32")
        labels = ops.cast(labels, "int32")
        mean, log_var, specified = self.encoder(images, training=training)
        log_var = ops.clip(log_var, -10.0, 10.0)
        z = mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean),
                                                                seed=self.seed_generator)
        partner = ops.take(specified, same_class_partners(labels, self.seed_generator), axis=0)
        drawn = self.generator([z, partner], training=training)
        reconstruction = ops.mean(ops.square(drawn - images))
        kl = ops.mean(-0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var),
                                     axis=1)) / self.pixels
        forward = 2.0 * (b.reconstruction * reconstruction + b.kl * kl)
        logs = {"reconstruction": reconstruction, "kl": kl * self.pixels}
        if self.separate and training:  # The reverse cycle is a step of its own.
            return [forward], {**logs, "loss": forward}, {"forward": forward}
        cycle = self._reverse_cycle(specified, training)
        losses = [forward, b.reverse_cycle * cycle]
        return losses, {**logs, "reverse_cycle": cycle, "loss": forward + losses[1]}, {}

    def _reverse_cycle(self, specified, training: bool):
        """One prior code drawn with the class codes of two random images of the batch (codes
        held fixed); the L1 distance between the two drawings' re-encoded style means."""
        import keras

        prior = keras.random.normal((ops.shape(specified)[0], self.config.model.style_dim),
                                    seed=self.seed_generator)
        held = ops.stop_gradient(specified)
        order = keras.random.shuffle(ops.arange(ops.shape(held)[0]), seed=self.seed_generator)
        first = self.generator([prior, held], training=training)
        second = self.generator([prior, ops.take(held, order, axis=0)], training=training)
        return ops.mean(ops.abs(self.encoder(first, training=training)[0]
                                - self.encoder(second, training=training)[0]))

    def _reverse_group_loss(self, images, labels, aux, training: bool):
        """The reverse cycle on its own batch (separate_cycles)."""
        specified = self.encoder(ops.convert_to_tensor(images, "float32"), training=training)[2]
        cycle = self._reverse_cycle(specified, training)
        loss = self.config.baseline.reverse_cycle * cycle
        return loss, {"reverse_cycle": cycle, "loss": aux["forward"] + loss}
