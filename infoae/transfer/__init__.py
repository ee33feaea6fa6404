"""Digit style transfer beside the Info-autoencoder: ``gatys`` (Gatys et al.'s optimisation
and the Info-autoencoder's one pass), ``compare`` (the methods side by side on one judge),
``images`` (images named on the command line)."""
