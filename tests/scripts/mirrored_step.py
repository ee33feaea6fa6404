"""One training step on one device and on two mirrored CPU devices; prints JSON to compare.

Run in a fresh process: the CPU must be split into logical devices before TensorFlow starts.
The independence penalty is off: its MMD, like batch normalisation, is a statistic of each
replica's share of the batch, so it differs by design. The optimizer is plain SGD, so a loss
scaled wrongly per replica shows up as a step of the wrong size (Adam would hide it: its steps
do not depend on the gradient's scale).
"""

import json
import sys

import numpy as np
import tensorflow as tf

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from infoae.config import load_config  # noqa: E402
from infoae.model.autoencoder import build_model  # noqa: E402

# No dropout or random shifts: the two runs must see the same content-head inputs.
config = load_config(overrides=["model.content_dropout=0.0", "model.content_shift=0",
                                "model.encoder_filters=[8, 8, 16]",
                                "model.generator_filters=[16, 8, 8]", "model.encoder_dense=32",
                                "model.adversary_hidden=32", "adversary.extra_steps=0",
                                "loss.independence=0.0",
                                # The width the tolerances below were set at: with 6 dims the
                                # generator's per-replica batch statistics move the encoder's
                                # step by 7-25% (a per-replica loss would double it).
                                "model.style_dim=16"])
rng = np.random.default_rng(0)
images = rng.random((32, 28, 28, 1), dtype=np.float32)
labels = np.arange(32) % 10


def one_step(strategy):
    with strategy.scope():
        model = build_model(config, (28, 28, 1))
        model.compile(optimizer=keras.optimizers.SGD(0.5))
        model.build_all()
    groups = {"content_head": model.content_head, "style_encoder": model.style_encoder,
              "generator": model.generator}
    before = {k: [v.numpy().copy() for v in m.trainable_variables] for k, m in groups.items()}
    history = model.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(32),
                        epochs=1, verbose=0)
    steps = {k: float(np.sqrt(sum(np.sum((v.numpy() - b) ** 2)
                                  for v, b in zip(m.trainable_variables, before[k]))))
             for k, m in groups.items()}
    return {"replicas": strategy.num_replicas_in_sync, "steps": steps,
            "losses": {k: float(v[-1]) for k, v in history.history.items()}}


single = one_step(tf.distribute.get_strategy())
mirrored = one_step(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
json.dump({"single": single, "mirrored": mirrored}, sys.stdout)
