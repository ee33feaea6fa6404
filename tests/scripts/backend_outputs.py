"""Load a run on the backend of KERAS_BACKEND and save what it computes on the first 32 test
digits of the sample (style codes, reconstructions, content probabilities) to an .npz file.

    KERAS_BACKEND=jax python tests/scripts/backend_outputs.py RUN_DIR OUT.npz
"""

import sys

import numpy as np

import infoae
from infoae.data import load_mnist_sample, to_float

run = infoae.load_run(sys.argv[1])
resumable = infoae.load_run(sys.argv[1], checkpoint=True)  # The optimizers' state is here.
_, (images, labels) = load_mnist_sample()
images, labels = to_float(images[:32]), labels[:32]
np.savez(sys.argv[2], codes=run.encode_style(images, normalised=False),
         reconstructions=run.reconstruct(images, labels),
         content=run.predict_content(images),
         iterations=np.array([int(resumable.model.optimizer.iterations),
                              int(resumable.model.adversary_optimizer.iterations)]))
