"""Training a run: ``train`` (``train_and_evaluate``), ``callbacks`` (checkpoints, divergence
stop, the epoch-end monitor) and ``distribute`` (tf.distribute strategies)."""
