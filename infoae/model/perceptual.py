"""The loss network, Gram matrices and the perceptual losses of Gatys et al. and Johnson et al.

VGG's ImageNet weights cannot be downloaded here and are built for large photos, so a fixed
digit classifier plays VGG's role: three blocks of two 3x3 convolutions (32, 64, 128
channels, ReLU) with average pooling between blocks (Gatys et al. prefer it to max pooling for
image synthesis), then Flatten and a dense layer to the ten classes; colour images are first
centred per image and channel (``centre_colours``). It is trained on
the dataset's real training images, then normalised in the way Gatys et al. normalised VGG:
each layer's weights are scaled so that its mean activation over images, positions and
filters is one, and the next layer's weights undo the scale (ReLU is positively homogeneous,
so the classifier's outputs do not change). Without it the Gram losses of the layers differ by
five orders of magnitude and the deepest layer alone counts. (Gatys et al. scale each filter;
on this small network some filters barely fire on real digits and would be scaled by 10^4 and
more, so the scale is one per layer.) Then it is frozen. Its layers are named like
VGG's (``block1_conv1`` ... ``block3_conv2``, see ``config.LOSS_NETWORK_LAYERS``).

Losses, per image (``ops`` code, so they run inside a training step):
- Gram matrix of a layer: G = F^T F / (H W C) with F the (H W, C) feature matrix, uncentred
  (Johnson et al.'s normalisation; it makes G independent of the image size).
- Style loss: sum over layers l of w_l * ||G_l(generated) - G_l(style)||_F^2.
- Feature reconstruction (content) loss: mean over (H, W, C) of the squared difference of one
  layer's features.
- Total variation: mean squared difference of horizontally and vertically adjacent pixels.
"""

from __future__ import annotations

import numpy as np

from infoae.config import LOSS_NETWORK_LAYERS, PerceptualConfig

LOSS_NETWORK_FILTERS = (32, 64, 128)


def build_loss_network(image_shape, num_classes: int = 10, name: str = "loss_network"):
    """The (untrained) loss network: images in [0, 1] -> class logits."""
    import keras
    from keras import layers

    images = keras.Input(image_shape, name="images")
    x = images
    if centres_colours(image_shape):
        x = layers.Lambda(centre_colours, name="centre_colours")(x)
    for block, filters in enumerate(LOSS_NETWORK_FILTERS, start=1):
        for conv in (1, 2):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{conv}")(x)
        if block < len(LOSS_NETWORK_FILTERS):
            x = layers.AveragePooling2D(2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(images, logits, name=name)


def centres_colours(image_shape) -> bool:
    """Whether the loss network for images of this shape starts with centre_colours."""
    return image_shape[-1] > 1


def centre_colours(images):
    """Each colour image minus its mean per channel (the loss network's first step on colour
    images; grey images, on one black background, go in as they are).

    A colour digit's background fills most of the image with an arbitrary colour, which is no
    feature of the digit: on uncentred SynDigits images the loss network stayed at chance
    (validation accuracy 9.4% after 2 epochs on 25,000 images, as with Adam at 3e-4 or inputs
    scaled to [-1, 1]); centred, it reached 92% after 2 epochs on 5,000. The features then
    compare colour contrasts (digit against background), and the pixel losses beside them
    keep the absolute colours.
    """
    from keras import ops

    return images - ops.mean(images, axis=(1, 2), keepdims=True)


def normalise_activations(network, images) -> list[float]:
    """Scale each convolution so its mean activation on images is 1 (see the module doc).

    The following layer (convolution, or the dense classifier after Flatten)
    is scaled inversely, so the network's outputs stay the same. Returns each layer's mean
    activation before the scaling.
    """
    import keras

    from infoae.model.classifiers import predict_in_batches

    names = [f"block{b}_conv{c}" for b in range(1, len(LOSS_NETWORK_FILTERS) + 1) for c in (1, 2)]
    following = names[1:] + ["logits"]
    before = []
    for name, next_name in zip(names, following):
        probe = keras.Model(network.inputs[0], network.get_layer(name).output)
        mean = float(predict_in_batches(lambda x: probe(x, training=False), images).mean())
        before.append(mean)
        scale = np.float32(mean if mean > 1e-8 else 1.0)
        layer, next_layer = network.get_layer(name), network.get_layer(next_name)
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel / scale, bias / scale])
        next_kernel, next_bias = next_layer.get_weights()
        next_layer.set_weights([next_kernel * scale, next_bias])
    return before


def feature_extractor(network, layer_names, name: str = "loss_features"):
    """A frozen model sharing the network's layers: images -> [features of each named layer]."""
    import keras

    unknown = [n for n in layer_names if n not in LOSS_NETWORK_LAYERS]
    if unknown:
        raise ValueError(f"unknown loss-network layers {unknown}; the layers are "
                         f"{', '.join(LOSS_NETWORK_LAYERS)}")
    extractor = keras.Model(network.inputs[0],
                            [network.get_layer(n).output for n in layer_names], name=name)
    extractor.trainable = False
    return extractor


def gram_matrix(features):
    """(B, H, W, C) features -> (B, C, C) uncentred channel correlations / (H W C)."""
    from keras import ops

    height, width, channels = features.shape[1:]
    flat = ops.reshape(features, (-1, height * width, channels))
    return ops.einsum("bnc,bnd->bcd", flat, flat) / float(height * width * channels)


def style_loss(generated_features, style_grams, weights):
    """Per image: sum over layers of weight * squared Frobenius distance of the Gram matrices."""
    from keras import ops

    total = 0.0
    for features, target, weight in zip(generated_features, style_grams, weights):
        total = total + weight * ops.sum(ops.square(gram_matrix(features) - target), axis=(1, 2))
    return total


def feature_loss(generated, target):
    """Per image: mean squared difference of one layer's features (feature reconstruction)."""
    from keras import ops

    return ops.mean(ops.square(generated - target), axis=(1, 2, 3))


def total_variation(images):
    """Per image: mean squared difference of neighbouring pixels, across and down."""
    from keras import ops

    across = ops.square(images[:, :, 1:, :] - images[:, :, :-1, :])
    down = ops.square(images[:, 1:, :, :] - images[:, :-1, :, :])
    return ops.mean(across, axis=(1, 2, 3)) + ops.mean(down, axis=(1, 2, 3))


class PerceptualLoss:
    """Feature, style and TV losses through a loss network, with the layers of a config."""

    def __init__(self, network, settings: PerceptualConfig):
        self.content_layer = settings.content_layer
        self.style_layers = list(settings.style_layers)
        self.style_weights = [float(w) for w in settings.style_layer_weights]
        self.layers = list(dict.fromkeys([self.content_layer, *self.style_layers]))
        self.extractor = feature_extractor(network, self.layers)

    def features(self, images) -> dict:
        outputs = self.extractor(images, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return dict(zip(self.layers, outputs))

    def targets(self, content_images, style_images) -> dict:
        """The fixed targets: content features and style Gram matrices."""
        from keras import ops

        content_features = self.features(content_images)
        content = content_features[self.content_layer]
        # Perceptual training passes the same images as both targets: one pass serves.
        style = (content_features if style_images is content_images
                 else self.features(style_images))
        return {"content": ops.stop_gradient(content),
                "grams": [ops.stop_gradient(gram_matrix(style[n])) for n in self.style_layers]}

    def losses(self, generated, targets: dict) -> dict:
        """Per-image content, style and TV losses of generated images against the targets."""
        features = self.features(generated)
        return {"content": feature_loss(features[self.content_layer], targets["content"]),
                "style": style_loss([features[n] for n in self.style_layers], targets["grams"],
                                    self.style_weights),
                "tv": total_variation(generated)}
