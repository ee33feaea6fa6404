"""Train a small Info-autoencoder on the sample with the backend of KERAS_BACKEND, from the
weights in INIT (written there first when it does not exist), on the same NumPy batches on
every backend, and write the last epoch's training logs and the test metrics to OUT.json.

    KERAS_BACKEND=jax python tests/scripts/backend_learning.py INIT.weights.h5 OUT.json
"""

import json
import sys
from pathlib import Path

import keras
import numpy as np

from infoae.config import load_config
from infoae.data import load_mnist_sample
from infoae.data.pipeline import ArrayBatches
from infoae.model.autoencoder import build_model

OVERRIDES = ["model.encoder_filters=[16, 32, 32]", "model.generator_filters=[32, 16, 16]",
             "model.encoder_dense=64", "model.adversary_hidden=64", "train.batch_size=64",
             "train.epochs=3",
             "model.style_dim=16"]  # the width the test's tolerances were measured at
init, out = Path(sys.argv[1]), Path(sys.argv[2])
config = load_config(overrides=OVERRIDES)
(train_images, train_labels), (test_images, test_labels) = load_mnist_sample()
order = np.random.default_rng(0).permutation(len(train_labels))  # The sample is sorted.
train_images, train_labels = train_images[order], train_labels[order]
steps = len(train_labels) // config.train.batch_size
model = build_model(config, (28, 28, 1), steps, num_classes=10)
if not init.is_file():
    model.save_weights(init)
model.load_weights(init)
batches = ArrayBatches(train_images, train_labels, config.train.batch_size, shuffle=True, seed=0)
history = model.fit(batches, epochs=config.train.epochs, verbose=0)
test = model.evaluate(ArrayBatches(test_images, test_labels, 500, shuffle=False), verbose=0,
                      return_dict=True)
out.write_text(json.dumps({"train": {k: float(v[-1]) for k, v in history.history.items()},
                           "test": {k: float(v) for k, v in test.items()}}, indent=1))
