"""The Info-autoencoder and the networks around it.

- ``engine``, ``engine_tensorflow``, ``engine_jax``, ``groups``: the one training engine
  (loss groups, learning-rate schedules, batch streams) on each backend;
- ``adversary``: the adversary's network, loss and schedule;
- ``layers``: random shifts;
- ``networks``: style encoder, content head, generator;
- ``conv_transpose``: the generator's transposed convolution (a faster kernel gradient on
  JAX on a CPU);
- ``losses``: the table of loss terms and weights, and every loss function;
- ``autoencoder``: ``InfoAutoencoder`` and ``build_model``;
- ``class_map``: ``ClassMap``, the class map of the style code;
- ``trained``: ``Run`` and ``load_run`` (a trained run as NumPy in, NumPy out);
- ``memo``: readings remembered by their exact input (a Run's content head and encoder);
- ``classifiers``: fit a helper classifier on real images, predict in batches;
- ``perceptual``, ``loss_network``: the loss network, Gram matrices, perceptual losses;
- ``baselines``, ``cyclevae``, ``lord``: the field's other methods (model.kind), trained and
  scored beside the Info-autoencoder.
"""
