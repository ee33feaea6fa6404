"""Three of the four sub-networks of the Info-autoencoder, as small functional Keras models.

- Style encoder (network A): two 5x5 and one 3x3 stride-2 convolutions with ReLU, Flatten,
  a dense layer, and the dense style code (with a log-variance beside it when the code is
  variational).
- Content head: a classifier of its own (two stages of two 3x3 convolutions, dense 256,
  dropout) that predicts the class from the image.
- The adversary (network B) is in ``infoae.model.adversary``, with its loss and schedule.
- Generator: [style code, one-hot label] -> dense map of 1/8 the image size -> three stride-2
  transposed convolutions (or nearest-neighbour upsampling and a convolution;
  model.generator_filters channels), each with batch normalisation and ReLU -> a 3x3
  convolution with sigmoid to the image channels, cropped to the image size (28x28 for MNIST
  from 32x32). Batch normalisation is our addition: without it Adam drives the sigmoid output
  to 0 within ten steps and the MSE gradient through the saturated sigmoid never brings it
  back.

The image shape and the number of classes come from the data.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from infoae.config import Config
from infoae.model.conv_transpose import Conv2DTranspose

# The generator doubles its map three times.
UPSAMPLING = 8


def build_style_encoder(image_shape, num_classes: int, config: Config) -> keras.Model:
    """Image (and one-hot label, when conditional) -> style code mean (and log-variance)."""
    m = config.model
    images = keras.Input(image_shape, name="images")
    inputs = [images]
    x = images
    for filters, kernel in zip(m.encoder_filters, (5, 5, 3)):
        x = layers.Conv2D(filters, kernel, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    if m.conditional_encoder:
        labels = keras.Input((num_classes,), name="label_one_hot")
        inputs.append(labels)
        x = layers.Concatenate()([x, labels])
    x = layers.Dense(m.encoder_dense, activation="relu")(x)
    mean = layers.Dense(m.style_dim, name="style_mean", dtype="float32")(x)
    outputs = [mean]
    if m.variational:
        outputs.append(layers.Dense(m.style_dim, name="style_log_var", dtype="float32")(x))
    return keras.Model(inputs, outputs, name="style_encoder")


def build_content_head(image_shape, num_classes: int, config: Config) -> keras.Model:
    """Image -> class logits; a classifier of its own, never trained on generated images."""
    images = keras.Input(image_shape, name="images")
    x = images
    for filters in config.model.content_filters:
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(config.model.content_dense, activation="relu")(x)
    x = layers.Dropout(config.model.content_dropout)(x)
    logits = layers.Dense(num_classes, name="content_logits", dtype="float32")(x)
    return keras.Model(images, logits, name="content_head")


def build_generator(image_shape, num_classes: int, config: Config) -> keras.Model:
    """[style code, one-hot label] -> image in [0, 1] of image_shape. The field's other
    methods (infoae.model.baselines) pass their content code's width as num_classes and feed
    that code where the one-hot label goes."""
    m = config.model
    height, width, channels = image_shape
    start_h, start_w = math.ceil(height / UPSAMPLING), math.ceil(width / UPSAMPLING)
    codes = keras.Input((m.style_dim,), name="style_code")
    labels = keras.Input((num_classes,), name="label_one_hot")
    x = layers.Concatenate()([codes, labels])
    x = layers.Dense(start_h * start_w * m.generator_filters[0], use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((start_h, start_w, m.generator_filters[0]))(x)
    for filters in m.generator_filters:
        if m.generator_upsample == "resize":
            x = layers.UpSampling2D(2, interpolation="nearest")(x)
            x = layers.Conv2D(filters, m.generator_kernel, padding="same", use_bias=False)(x)
        else:
            x = Conv2DTranspose(filters, m.generator_kernel, strides=2, padding="same",
                                use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", dtype="float32")(x)
    full_h, full_w = start_h * UPSAMPLING, start_w * UPSAMPLING
    crop_h, crop_w = (full_h - height) // 2, (full_w - width) // 2
    if full_h != height or full_w != width:
        x = layers.Cropping2D(((crop_h, full_h - height - crop_h),
                               (crop_w, full_w - width - crop_w)), dtype="float32")(x)
    return keras.Model([codes, labels], x, name="generator")
