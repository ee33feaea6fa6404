"""The input pipeline: uint8 arrays in memory -> shuffled float batches for Keras."""

from __future__ import annotations

import numpy as np

from infoae.errors import DataError


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1]."""
    return images.astype(np.float32) / 255.0


def training_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0,
                     streams: int = 1):
    """Shuffled batches for model.fit, repeated without end, and the steps of one epoch (one
    pass over the images, reshuffled every pass, the last partial batch dropped).

    streams > 1: each step gets that many batches side by side (one array of streams *
    batch_size rows), each from an independently shuffled pass (stream s seeded seed + 1000 s;
    stream 0 is the one-stream batch), for models whose loss groups read batches of their own
    (``infoae.model.engine``).

    Fit with steps_per_epoch=steps: Keras then keeps one iterator for the whole run. Without
    it Keras makes an iterator per epoch and drops the last one, and dropping one can hang
    TensorFlow 2.21's tf.data (seen here on 2 CPU cores: fit stuck for good at the start of
    epoch 4, in the old iterator's destructor)."""
    steps = len(labels) // batch_size
    if steps < 1:
        raise DataError(f"{len(labels)} training images are fewer than one batch of "
                        f"{batch_size}; use more images or a smaller batch.")
    if not _tensorflow_backend():
        return ArrayBatches(images, labels, batch_size, shuffle=True, seed=seed,
                            streams=streams), steps
    return make_dataset(images, labels, batch_size, shuffle=True, seed=seed,
                        streams=streams).repeat(), steps


def _tensorflow_backend() -> bool:
    import keras

    return keras.backend.backend() == "tensorflow"


def make_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool,
                 seed: int = 0, streams: int = 1):
    """Batches of floats in [0, 1] for Keras, shuffled if asked: on TensorFlow a cached and
    prefetched tf.data pipeline, on other backends NumPy batches (ArrayBatches). streams > 1:
    that many batches side by side (see training_batches; unshuffled, the same batch
    repeated)."""
    if not _tensorflow_backend():
        return ArrayBatches(images, labels, batch_size, shuffle=shuffle, seed=seed,
                            streams=streams)
    import tensorflow as tf

    base = tf.data.Dataset.from_tensor_slices((images, labels)).cache()

    def stream(s):
        dataset = base
        if shuffle:
            dataset = dataset.shuffle(min(len(labels), 60000), seed=seed + 1000 * s,
                                      reshuffle_each_iteration=True)
        return dataset.batch(batch_size, drop_remainder=shuffle)

    dataset = stream(0)
    if streams > 1:
        dataset = tf.data.Dataset.zip(tuple(stream(s) for s in range(streams))).map(
            lambda *pairs: (tf.concat([x for x, _ in pairs], 0),
                            tf.concat([y for _, y in pairs], 0)))
    dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y),
                          num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


class _Batches:
    """Batches of in-memory arrays (no TensorFlow): floats in [0, 1] (uint8 / 255, as the
    tf.data pipeline) and the targets as given. With shuffle, the order is a fresh
    permutation every epoch (from one seeded generator) and the last partial batch is
    dropped, as in the tf.data pipeline."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int,
                 shuffle: bool, seed: int = 0, streams: int = 1):
        super().__init__()
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle = int(batch_size), shuffle
        # Stream 0 draws from the seed's generator; stream s from seed + 1000 s.
        self.rngs = [np.random.default_rng(seed + 1000 * s) for s in range(int(streams))]
        self.orders = [self._order(rng) for rng in self.rngs]

    def _order(self, rng):
        return rng.permutation(len(self.labels)) if self.shuffle else np.arange(len(self.labels))

    def __len__(self) -> int:
        if self.shuffle:
            return len(self.labels) // self.batch_size
        return -(-len(self.labels) // self.batch_size)

    def __getitem__(self, index: int):
        rows = np.concatenate([order[index * self.batch_size:(index + 1) * self.batch_size]
                               for order in self.orders])
        return self.images[rows].astype(np.float32) / 255.0, self.labels[rows]

    def on_epoch_end(self):
        if self.shuffle:
            self.orders = [self._order(rng) for rng in self.rngs]


_ARRAY_BATCHES = []


def ArrayBatches(images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool,
                 seed: int = 0, streams: int = 1):
    """_Batches as a keras.utils.PyDataset (the class is made on first use, so that importing
    infoae.data does not import Keras)."""
    if not _ARRAY_BATCHES:
        import keras

        _ARRAY_BATCHES.append(type("ArrayBatches", (_Batches, keras.utils.PyDataset), {}))
    return _ARRAY_BATCHES[0](images, labels, batch_size, shuffle, seed, streams)
