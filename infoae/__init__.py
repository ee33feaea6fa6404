"""infoae: train an Info-autoencoder on digit datasets and measure style/content disentanglement.

    infoae train --config configs/quickstart.toml     # train, evaluate, draw the swap grid
    run = infoae.load_run("outputs/RUN")              # Python API on a trained run
    run.swap(style_images, labels)
"""

from infoae.version import __version__


def load_run(run_dir, weights=None, checkpoint=False):
    """Load a trained run directory; see infoae.model.trained.load_run and Run. The backend
    starts quietly, as in the CLI (TensorFlow's C++ start-up lines hidden)."""
    from infoae.console import start_backend
    from infoae.model.trained import load_run as _load_run

    start_backend()
    return _load_run(run_dir, weights, checkpoint)


def prepare_photo(path, image_shape=(28, 28, 1)):
    """A photo or scan of a digit prepared as the dataset's images were (see
    infoae.transfer.images.prepare_photo); pass run.image_shape for a run's shape."""
    from infoae.transfer.images import prepare_photo as _prepare

    return _prepare(path, image_shape)


__all__ = ["load_run", "prepare_photo", "__version__"]
