"""The Info-autoencoder and the networks around it.

- ``layers``: the gradient-reversal layer, random shifts;
- ``networks``: style encoder, content head, adversary, generator;
- ``losses``: the table of loss terms and weights, and every loss function;
- ``steps``: the training step (TensorFlow) and multi-worker workarounds;
- ``autoencoder``: ``InfoAutoencoder`` and ``build_model``;
- ``trained``: ``Run`` and ``load_run`` (a trained run as NumPy in, NumPy out);
- ``classifiers``: fit a helper classifier on real images, predict in batches;
- ``perceptual``, ``loss_network``: the loss network, Gram matrices, perceptual losses;
- ``baselines``, ``cyclevae``, ``lord``: the field's other methods (model.kind), trained and
  scored beside the Info-autoencoder.
"""
