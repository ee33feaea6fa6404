"""A trained model as a user sees it: ``Run`` (checked inputs, NumPy in and out, batched) and
``load_run`` (a run directory -> Run, weights only, no code executed)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from infoae.config import Config
from infoae.errors import ImageError, RunDirError, first_line
from infoae.model.classifiers import predict_in_batches
from infoae.model.class_map import ClassMap
from infoae.model.memo import Memo, fingerprint
from infoae.rundir import (FINAL_WEIGHTS, VOUCHED_FORMAT, checked_file, class_map_file,
                           latest_checkpoint, load_run_config, not_vouched_line, read_run_info)

# The most images Run.label_chunks generates in one go (about 200 MB of 64x64 images).
EACH_LABEL_IMAGES = 12000
# How many of the latest network readings (content head, encoder) a Run keeps, by input.
MEMO_ENTRIES = 16


class Run:
    """A trained run: the model and helpers on images in [0, 1] shaped like the dataset."""

    def __init__(self, run_dir: str | Path | None, model, config: Config,
                 class_maps: dict[str, ClassMap] | None = None,
                 weights: str | Path | None = None):
        self.run_dir = Path(run_dir) if run_dir is not None else None
        # The weights file the model holds (None: weights in memory, as at the end of training).
        self.weights = Path(weights) if weights is not None else (
            self.run_dir / FINAL_WEIGHTS if self.run_dir is not None else None)
        self.model = model
        self.config = config
        self.image_shape = model.image_shape
        self.num_classes = model.num_classes
        # The class map of the code (infoae.model.class_map), fitted after training:
        # "kept" for the pruned code, "all" for every dimension; empty: the encoder's codes.
        self.class_maps = class_maps or {}
        # The file the class maps were read from (None: no map, or maps in memory).
        self.class_map_path: Path | None = None
        # The latest readings of the content head and the encoder, by the exact input (an
        # evaluation reads the same images several times: codes, their variants, factors).
        self._memo = Memo(MEMO_ENTRIES)

    def check_images(self, images) -> np.ndarray:
        """Return images as float32 (N, H, W, C) in [0, 1], or raise an ImageError saying why not."""
        images = np.asarray(images)
        if images.shape == self.image_shape:
            images = images[None]  # One image.
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ImageError(f"images must have shape (N, {', '.join(map(str, self.image_shape))})"
                             f" for this run, got {images.shape}")
        if len(images) == 0:
            raise ImageError(f"images must hold at least one image, got shape {images.shape}")
        if not np.issubdtype(images.dtype, np.floating):
            raise ImageError(f"images must be floats in [0, 1], got dtype {images.dtype}; "
                             "divide uint8 images by 255")
        images = images.astype(np.float32)
        if not np.all(np.isfinite(images)) or images.min() < 0.0 or images.max() > 1.0:
            raise ImageError("images must be finite floats in [0, 1]; divide uint8 images by 255")
        return images

    def encode_style(self, images, pruned: bool = True, normalised: bool = True) -> np.ndarray:
        """Style codes (N, style_dim): mapped where the run has a class map (with the
        content head's class of each image); pruned=False keeps the dimensions that pruning set
        to 0, normalised=False gives the encoder's own code."""
        images = self.check_images(images)
        class_map = self.class_maps.get("kept" if pruned else "all") if normalised else None
        if class_map is None:
            return self._codes(images, pruned)
        return self.style_codes(images, pruned)[1]

    def style_codes(self, images, pruned: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(the encoder's own codes, the class-normalised codes) of images from one pass of the
        content head and the encoder; the two are equal where the run has no class map."""
        images = self.check_images(images)
        key = fingerprint(images)
        # The content head's class goes to the conditional encoder and to the map.
        labels = self._content(images, key).argmax(1).astype(np.int32)
        codes = self._codes(images, pruned, key, labels)
        class_map = self.class_maps.get("kept" if pruned else "all")
        return codes, (codes if class_map is None else class_map.forward(codes, labels))

    def _codes(self, images, pruned: bool, key: tuple | None = None, labels=None) -> np.ndarray:
        """The encoder's codes of checked images (key: their fingerprint), every dimension or
        with the pruned ones at 0. A conditional encoder is given the content head's class of
        each image (labels, where the caller has them), so the images alone are the key."""
        key = fingerprint(images) if key is None else key
        inputs = [images]
        if self.config.model.conditional_encoder:
            inputs.append(self._content(images, key).argmax(1).astype(np.int32)
                          if labels is None else labels)
        whole = self._memo.get(("encoder", key), lambda: predict_in_batches(
            lambda *x: self.model.encode_style(*x, pruned=False), *inputs))
        # Times 1 or 0: exactly what the model's own pruned output holds.
        return whole * np.asarray(self.model.style_mask, np.float32) if pruned else whole

    def _content(self, images, key: tuple) -> np.ndarray:
        """The content head's class probabilities of checked images (key: their fingerprint)."""
        from keras import ops

        return self._memo.get(("content", key), lambda: predict_in_batches(
            lambda x: ops.softmax(self.model.content_head(x)), images))

    def predict_content(self, images) -> np.ndarray:
        """Class probabilities (N, num_classes) from the content head."""
        images = self.check_images(images)
        return self._content(images, fingerprint(images))

    def generate(self, style_codes, labels) -> np.ndarray:
        """Images from style codes (N, style_dim), as encode_style returns them, and class
        labels (N,)."""
        codes, labels = self._checked(style_codes, labels)
        return predict_in_batches(self.model.generate, self.generator_codes(codes, labels), labels)

    def generator_codes(self, style_codes, labels) -> np.ndarray:
        """The encoder's own codes that generate feeds the generator for these style codes and
        labels (the inverse class map of each label, pruned dimensions at 0)."""
        if "kept" not in self.class_maps:
            return style_codes
        return self.class_maps["kept"].inverse(style_codes, labels) * self.model.style_mask

    def _checked(self, style_codes, labels) -> tuple[np.ndarray, np.ndarray]:
        """(float32 codes, int32 labels), or an ImageError saying what is wrong."""
        codes = np.asarray(style_codes)
        if not np.issubdtype(codes.dtype, np.number) or np.iscomplexobj(codes):
            raise ImageError(f"style codes must be real numbers, got dtype {codes.dtype}")
        codes = codes.astype(np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.config.model.style_dim:
            raise ImageError(f"style codes must have shape (N, {self.config.model.style_dim}), "
                             f"got {codes.shape}")
        if not np.all(np.isfinite(codes)):
            raise ImageError("style codes must be finite numbers (no NaN or Inf)")
        return codes, self._checked_labels(labels, len(codes))

    def _checked_labels(self, labels, count: int, per: str = "style code") -> np.ndarray:
        """count class labels as int32, or an ImageError saying what is wrong."""
        labels = np.asarray(labels)
        if labels.ndim > 1:
            raise ImageError(f"labels must be a flat list of {count} integers, one per {per}; "
                             f"got an array of shape {labels.shape}")
        labels = labels.reshape(-1)
        numeric = np.issubdtype(labels.dtype, np.number) and not np.iscomplexobj(labels)
        last = self.num_classes - 1
        if (len(labels) != count or not numeric or not np.all(np.isfinite(labels))
                or not np.all(labels == np.round(labels))
                or not np.all((labels >= 0) & (labels <= last))):
            bad = next((v for v in labels.tolist() if not (isinstance(v, (int, float))
                        and np.isfinite(v) and v == round(v) and 0 <= v <= last)), None)
            which = f" ({bad!r} is not one)" if bad is not None else ""
            raise ImageError(f"labels must be {count} integers in 0..{last}, one per {per}; "
                             f"got {labels.size} values of dtype {labels.dtype}{which}")
        return labels.astype(np.int32)

    def each_label(self, style_codes):
        """(label, images) for every class label: each style code drawn as every class."""
        n = len(style_codes)
        for labels, images in self.label_chunks(style_codes):
            for i, label in enumerate(labels):
                yield int(label), images[i * n:(i + 1) * n]

    def label_chunks(self, style_codes):
        """(labels, images): the style codes drawn as several classes at once (class by class,
        at most about EACH_LABEL_IMAGES images), so that each network is called on a few large
        batches rather than once per class."""
        codes = np.asarray(style_codes, np.float32)
        per_call = max(1, EACH_LABEL_IMAGES // max(len(codes), 1))
        for first in range(0, self.num_classes, per_call):
            labels = np.arange(first, min(first + per_call, self.num_classes))
            yield labels, self.generate(np.tile(codes, (len(labels), 1)),
                                        np.repeat(labels, len(codes)))

    def swap(self, style_images, labels) -> np.ndarray:
        """The style of each image drawn as the given label."""
        return self.generate(self.encode_style(style_images), labels)

    def reconstruct(self, images, labels) -> np.ndarray:
        """Each image re-drawn from its own style code and its (true) label."""
        images = self.check_images(images)
        labels = self._checked_labels(labels, len(images), per="image")
        codes = predict_in_batches(self.model.encode_style, images, labels)
        return predict_in_batches(self.model.generate, codes, labels)


def load_run_with_data(run_dir: str | Path, data_dir: str | None = None,
                       checkpoint: bool = False):
    """(the Run, its data): load_run, then the run's dataset, from data_dir when given
    (local files instead of the run's own source; the run's config then names it)."""
    from infoae.data import load_data

    run = load_run(run_dir, checkpoint=checkpoint)
    if data_dir is not None:
        run.config.data.dir = data_dir
    return run, load_data(run.config.data, run.config.train.seed)


def load_run(run_dir: str | Path, weights: str | Path | None = None,
             checkpoint: bool = False) -> Run:
    """Rebuild a run's model from its config and load its final weights (model.weights.h5,
    with the kept style dimensions and the class map of run.json).

    A run without final weights or without run.json is refused: its pruning mask is unknown.
    checkpoint=True loads the newest whole checkpoint instead (unpruned, not normalised, and
    said so); weights= loads a weights file of one's own choosing the same way."""
    from infoae.data.splits import IMAGE_SHAPES
    from infoae.model.autoencoder import build_model

    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    info = read_run_info(run_dir)
    if weights is None and checkpoint:
        found = latest_checkpoint(run_dir)
        if found is None:
            raise RunDirError(f"'{run_dir}' has no checkpoint yet; train it first.")
        weights = found[1]
        print(f"Using checkpoint {weights} (epoch {found[0]}): the whole style code, without "
              "the pruning mask and the class map of the final weights.")
    elif weights is None:
        weights = run_dir / FINAL_WEIGHTS
        if not weights.is_file():
            raise RunDirError(
                f"'{run_dir}' has no final weights ({FINAL_WEIGHTS}): its training has not "
                f"finished. Resume it (infoae train --resume --run-dir {run_dir}), or pass "
                "--checkpoint to use its newest checkpoint (not pruned or normalised).")
        if not info:
            raise RunDirError(f"'{run_dir}' has no run.json, so which style dimensions were kept "
                              "is unknown; restore the file, or pass --checkpoint to use the "
                              "newest checkpoint (not pruned or normalised).")
    kept = info.get("style_dims", {}).get("kept")
    style_dim = config.model.style_dim
    if kept is not None and not (isinstance(kept, list) and kept and all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d < style_dim
            for d in kept)):
        raise RunDirError(f"run.json in '{run_dir}' lists kept style dimensions {kept!r}; they "
                          f"must be a non-empty list of indices 0..{style_dim - 1}. The file is "
                          "damaged; restore it or train the run again.")
    final = Path(weights) == run_dir / FINAL_WEIGHTS  # (not a checkpoint or a file of one's own)
    if final:
        _vouch_for_weights(run_dir, info)
    image_shape = tuple(info.get("image_shape", IMAGE_SHAPES.get(config.data.name, ())))
    model = build_model(config, image_shape, num_classes=int(info.get("num_classes", 10)),
                        train_size=int(info.get("split_sizes", {}).get("train", 1)))
    try:
        with warnings.catch_warnings():
            # Final weights may hold no optimizer state (a run is loaded to be used, not
            # trained on); Keras warns that it skips the optimizer's variables.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(weights)
    except Exception as error:  # h5py and Keras raise several types for bad files.
        raise RunDirError(f"cannot load weights '{weights}': {first_line(error)}; does "
                          "config.toml match the weights?") from None
    if kept is not None and final:
        # The final model's style code keeps only these dimensions (see model.prune_nats).
        mask = np.zeros(config.model.style_dim, np.float32)
        mask[kept] = 1.0
        model.style_mask = mask
    class_maps, path = {}, _class_map_path(run_dir, info) if final else None
    if path is not None:
        try:
            class_maps = ClassMap.load_all(path)
        except Exception as error:  # zipfile, NumPy and the arrays raise several types.
            raise RunDirError(f"cannot read the class map '{path}' ({first_line(error)}); the "
                              "file is damaged. Fit it again (infoae class-map) or train the "
                              "run again.") from None
    run = Run(run_dir, model, config, class_maps, weights)
    run.class_map_path = path
    return run


def _vouch_for_weights(run_dir: Path, info: dict) -> None:
    """Check the final weights against run.json's checksum (format 3 on), or say that a run
    of an older format records none."""
    version = info.get("format", 1)
    if version >= VOUCHED_FORMAT:
        checked_file(run_dir, info.get("weights"), "final weights")
    else:
        print(not_vouched_line(run_dir, version))


def _class_map_path(run_dir: Path, info: dict) -> Path | None:
    """The class map file of the final weights: the one run.json names, checked against its
    checksum (format 3 on); in older runs the file there, if run.json says the run has one."""
    entry = info.get("class_map", info.get("style_normaliser"))
    if info.get("format", 1) >= VOUCHED_FORMAT:
        return checked_file(run_dir, entry, "class map") if entry is not None else None
    path = class_map_file(run_dir)
    if info.get("format", 1) >= 2 and (path is None) != (entry is None):
        what = (f"run.json in '{run_dir}' records a class map but its file is missing"
                if path is None else f"'{path}' holds a class map that run.json in '{run_dir}' "
                "does not record (an interrupted class-map command?)")
        raise RunDirError(f"{what}; fit the map again: infoae class-map {run_dir} --kind "
                          "gaussian|moments|none.")
    return path
