"""Gabbay and Hoshen 2020, "Demystifying Inter-Class Disentanglement" (LORD; model.kind =
"lord"), with the Info-autoencoder's encoder body and generator.

Stage 1, latent optimisation (the first train.epochs - baseline.amortise_epochs epochs):
every class has a learned embedding (baseline.content_dim) and every training image a learned
code of its own (model.style_dim); the generator draws image i from (code_i + Gaussian noise
of sd baseline.noise_std, embedding of its class). Loss: pixel L1 + baseline.perceptual *
the loss network's feature loss (LORD's VGG perceptual loss; VGG weights are not available
offline, so the project's own loss network, [perceptual], takes their place) + baseline.decay
* ||code_i||^2 (activation decay). No encoder exists yet: the noise and the decay keep class
information out of the per-image codes, since the class embedding carries it for free.

Stage 2, amortisation (the last baseline.amortise_epochs epochs): a style encoder and a class
encoder learn to predict the stage-1 codes from the image (squared error to the held codes),
and the generator is fine-tuned to draw the image from the encoders' outputs (the same
reconstruction loss). New images are encoded by these encoders.

Both stages run in one Keras fit; the optimizer's step counter says which stage a step is in
(each step computes the other stage's loss too, weighted 0), so checkpoints and resume work
as for any run. One Adam optimizer serves all variables (the authors use a larger learning
rate for the latent codes than for the generator): the codes are stored divided by
baseline.latent_learning_rate / train.learning_rate, which gives them that learning rate
under Adam, whose step does not depend on the gradient's scale.

Inference: ``encode_style`` is the amortised style encoder's code; ``generate(style, label)``
uses the learned class embedding; ``content_head`` reads the class as the class embedding
nearest to the class encoder's output.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from infoae.model.baselines import BaselineModel, build_image_encoder, nearest_code_logits
from infoae.model.engine import Group
from infoae.model.networks import build_generator


class Lord(BaselineModel):
    tracked = ("stage", "reconstruction", "decay", "amortised_reconstruction", "code_regression")

    def __init__(self, config, image_shape, num_classes: int = 10, train_size: int = 1,
                 loss_network=None, steps_per_epoch: int = 1, **kwargs):
        super().__init__(config, image_shape, num_classes, **kwargs)
        b, m = config.baseline, config.model
        self.train_size = int(train_size)
        self.latent_steps = float(max(1, (config.train.epochs - b.amortise_epochs)
                                      * steps_per_epoch))
        # Codes = stored values * latent_scale: under Adam they move latent_scale times as fast.
        self.latent_scale = b.latent_learning_rate / config.train.learning_rate
        self.class_table = layers.Embedding(self.num_classes, b.content_dim,
                                            embeddings_initializer=keras.initializers.RandomNormal(
                                                stddev=0.05 / self.latent_scale),
                                            name="class_embedding")
        self.image_codes = layers.Embedding(self.train_size, m.style_dim,
                                            embeddings_initializer="zeros", name="image_codes")
        self.generator = build_generator(self.image_shape, b.content_dim, config)
        self.style_encoder = build_image_encoder(self.image_shape, {"style": m.style_dim},
                                                 config, "lord_style_encoder")
        self.class_encoder = build_image_encoder(self.image_shape, {"class": b.content_dim},
                                                 config, "lord_class_encoder")
        if b.perceptual > 0:
            from infoae.model.perceptual import PerceptualLoss, build_loss_network

            network = loss_network or build_loss_network(self.image_shape, num_classes)
            self.perceptual = PerceptualLoss(network, config.perceptual)

    def fit_targets(self, labels: np.ndarray) -> np.ndarray:
        """Labels and each image's row in the per-image code table (validation images get
        rows too, which only the stage-1 loss reads)."""
        rows = np.arange(len(labels)) % self.train_size
        return np.stack([labels, rows], axis=1).astype("int32")

    # ------------------------------------------------------------ inference

    def encode_style(self, images, labels=None, training=False, pruned=True):
        return self.style_encoder(ops.convert_to_tensor(images, "float32"), training=training)

    def class_embedding(self, labels):
        return self.class_table(labels) * self.latent_scale

    def class_codes(self):
        return self.class_embedding(ops.arange(self.num_classes))

    def content_head(self, images, training=False):
        codes = self.class_encoder(ops.convert_to_tensor(images, "float32"), training=training)
        return nearest_code_logits(codes, self.class_codes())

    def generate(self, codes, labels, training=False):
        content = self.class_embedding(ops.cast(labels, "int32"))
        return self.generator([ops.convert_to_tensor(codes, "float32"), content],
                              training=training)

    def build_all(self):
        images = ops.zeros((2,) + self.image_shape)
        self.generate(self.encode_style(images), ops.zeros((2,), "int32"))
        self.content_head(images)
        self.image_codes(ops.zeros((2,), "int32"))
        super().build_all()

    # ------------------------------------------------------------ training

    def groups(self) -> list[Group]:
        return [Group("all", self.trainable_variables)]

    def _reconstruction(self, drawn, images):
        loss = ops.mean(ops.abs(drawn - images))
        if self.perceptual is not None:
            targets = self.perceptual.targets(images, images)
            loss = loss + self.config.baseline.perceptual * ops.mean(
                self.perceptual.losses(drawn, targets)["content"])
        return loss

    def loss_groups(self, images, targets, training: bool):
        b = self.config.baseline
        images = ops.convert_to_tensor(images, "float32")
        targets = ops.cast(targets, "int32")
        labels, rows = targets[:, 0], targets[:, 1]
        step = ops.cast(self.optimizer.iterations, "float32")
        stage = ops.cast(ops.greater_equal(step, self.latent_steps), "float32")
        # Stage 1: latent optimisation of the codes, the class embeddings and the generator.
        codes = self.image_codes(rows) * self.latent_scale
        embedded = self.class_embedding(labels)
        noisy = codes + b.noise_std * keras.random.normal(ops.shape(codes),
                                                          seed=self.seed_generator)
        latent = self._reconstruction(self.generator([noisy, embedded], training=training),
                                      images)
        decay = ops.mean(ops.sum(ops.square(codes), axis=1))
        # Stage 2: encoders predict the held codes; the generator draws from their outputs.
        style, content = self.style_encoder(images, training=training), self.class_encoder(
            images, training=training)
        amortised = self._reconstruction(self.generator([style, content], training=training),
                                         images)
        regression = (ops.mean(ops.sum(ops.square(style - ops.stop_gradient(codes)), axis=1))
                      + ops.mean(ops.sum(ops.square(content - ops.stop_gradient(embedded)),
                                         axis=1)))
        total = ((1.0 - stage) * (latent + b.decay * decay)
                 + stage * (amortised + regression))
        logs = {"loss": total, "stage": stage + 1.0, "reconstruction": latent, "decay": decay,
                "amortised_reconstruction": amortised, "code_regression": regression}
        return [total], logs, {}
