"""Model pieces: gradient reversal, shapes, exact parameter counts, losses, the train step."""

import keras
import numpy as np
import pytest
from keras import ops

from infoae.config import load_config
from infoae.model.autoencoder import build_model, count_parameters
from infoae.model.adversary import GradientReversal, dann_lambda, reset_adversary
from infoae.model.layers import random_shift
from infoae.model.losses import class_mmd
from tests.helpers import TINY_HEAD, TINY_NETS

pytestmark = pytest.mark.backends  # Also run on JAX by the README's test command.


def _value_and_gradient(function, x):
    """function(x) and its gradient with respect to x, on the Keras backend in use."""
    x = ops.convert_to_tensor(x)
    if keras.backend.backend() == "jax":
        import jax

        value, gradient = jax.value_and_grad(lambda v: ops.sum(function(v)))(x)
        return ops.convert_to_numpy(function(x)), ops.convert_to_numpy(gradient)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
        total = ops.sum(y)
    return ops.convert_to_numpy(y), ops.convert_to_numpy(tape.gradient(total, x))


def _numpy(tensor):
    return ops.convert_to_numpy(tensor)


def _kernel_gradient_of(layer, x, upstream):
    """d sum(layer(x) * upstream) / d layer.kernel, on the Keras backend in use."""
    if keras.backend.backend() == "jax":
        import jax

        bias = layer.bias.value
        return _numpy(jax.grad(lambda k: ops.sum(
            layer.stateless_call([k, bias], [], x)[0] * upstream))(layer.kernel.value))
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = ops.sum(layer(x) * upstream)
    return _numpy(tape.gradient(total, layer.kernel.value))


@pytest.mark.parametrize("strength", [0.5, 1.0, 2.0])
def test_gradient_reversal_is_identity_forward_and_flips_gradient(strength):
    layer = GradientReversal(strength)
    x = np.array([[1.0, -2.0, 3.0]], "float32")
    upstream = np.array([[0.5, 1.0, -4.0]], "float32")
    y, gradient = _value_and_gradient(lambda v: layer(v) * upstream, x)
    np.testing.assert_allclose(y, x * upstream)
    np.testing.assert_allclose(gradient, -strength * upstream)


def test_gradient_reversal_strength_can_be_scheduled():
    layer = GradientReversal(1.0)
    x = np.ones((2, 2), "float32")
    layer(x)
    layer.strength.assign(0.25)
    _, gradient = _value_and_gradient(layer, x)
    np.testing.assert_allclose(gradient, -0.25 * np.ones((2, 2)))
    assert not layer.trainable_weights


def test_dann_ramp():
    values = [float(dann_lambda(p)) for p in (0.0, 0.1, 0.5, 1.0)]
    assert values[0] == 0.0 and values == sorted(values) and values[-1] > 0.99


def _count(*shapes_and_bias):
    return sum(int(np.prod(shape)) + bias for shape, bias in shapes_and_bias)


@pytest.mark.parametrize("config_file, widths", [(None, (64, 32, 16)),
                                                  ("paper.toml", (128, 64, 32))])
def test_parameter_counts_mnist(configs_dir, config_file, widths):
    """The default generator and the paper's (configs/paper.toml), counted by hand."""
    config = load_config(configs_dir / config_file if config_file else None)
    model = build_model(config, (28, 28, 1))
    conv = [((5, 5, 1, 32), 32), ((5, 5, 32, 64), 64), ((3, 3, 64, 128), 128)]
    flat = 4 * 4 * 128  # 28 -> 14 -> 7 -> 4 with "same" stride-2 convolutions.
    label = 10 if config.model.conditional_encoder else 0
    d = config.model.style_dim  # 6 by default, 16 in paper.toml
    encoder = _count(*conv, ((flat + label, 256), 256), ((256, d), d),
                     *([((256, d), d)] if config.model.variational else []))
    content = _count(((3, 3, 1, 32), 32), ((3, 3, 32, 32), 32), ((3, 3, 32, 64), 64),
                     ((3, 3, 64, 64), 64), ((7 * 7 * 64, 256), 256), ((256, 10), 10))
    adversary = _count(((d, 256), 256), ((256, 10), 10))
    a, b, c = widths  # Transposed kernels are (k, k, out, in); batch norms add 2 per channel.
    generator = _count(((d + 10, 4 * 4 * a), 0), ((2 * 4 * 4 * a,), 0),
                       ((4, 4, a, a), 0), ((2 * a,), 0),
                       ((4, 4, b, a), 0), ((2 * b,), 0),
                       ((4, 4, c, b), 0), ((2 * c,), 0), ((3, 3, c, 1), 1))
    if config_file is None:
        assert count_parameters(model.style_encoder) == encoder == 656140
    assert count_parameters(model.content_head) == content
    assert count_parameters(model.adversary) == adversary
    assert count_parameters(model.generator) == generator
    assert count_parameters(model) == encoder + content + adversary + generator


def test_content_head_takes_its_widths_from_the_config():
    """model.content_filters and model.content_dense shape the content head alone."""
    config = load_config(overrides=["model.content_filters=[8, 16]", "model.content_dense=32"])
    model = build_model(config, (28, 28, 1))
    assert count_parameters(model.content_head) == _count(
        ((3, 3, 1, 8), 8), ((3, 3, 8, 8), 8), ((3, 3, 8, 16), 16), ((3, 3, 16, 16), 16),
        ((7 * 7 * 16, 32), 32), ((32, 10), 10))
    default = build_model(load_config(), (28, 28, 1))
    assert count_parameters(model.style_encoder) == count_parameters(default.style_encoder)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_shapes(shape):
    model = build_model(load_config(overrides=["model.style_dim=8"]), shape)
    images = np.random.default_rng(0).random((3,) + shape).astype("float32")
    codes, probabilities = model(images)
    assert codes.shape == (3, 8) and probabilities.shape == (3, 10)
    np.testing.assert_allclose(_numpy(probabilities).sum(1), 1.0, rtol=1e-5)
    generated = _numpy(model.generate(codes, np.array([0, 5, 9])))
    assert generated.shape == (3,) + shape
    assert generated.min() >= 0.0 and generated.max() <= 1.0


@pytest.mark.slow
def test_perceptual_losses_train_on_colour_images():
    """The feature and Gram losses of the reconstruction and of the swaps on 32x32 colour
    images (SynDigits' shape; the loss network centres each image's colours): on, finite, and
    a step moves the generator. (The SynDigits end-to-end test trains without them.)"""
    from infoae.model.perceptual import build_loss_network

    config = load_config(overrides=["model.style_dim=8", "loss.perceptual_content=0.01",
                                    "loss.perceptual_style=0.01", "loss.swap_style=0.01",
                                    "model.encoder_filters=[8, 8, 16]", "model.encoder_dense=32",
                                    "model.generator_filters=[16, 8, 8]", *TINY_HEAD])
    network = build_loss_network((32, 32, 3))
    assert "centre_colours" in [layer.name for layer in network.layers]
    model = build_model(config, (32, 32, 3), loss_network=network)
    images = np.random.default_rng(0).random((16, 32, 32, 3)).astype("float32")
    labels = np.arange(16) % 10
    before = [_numpy(w).copy() for w in model.generator.trainable_weights]
    logs = model.train_on_batch(images, labels, return_dict=True)
    for name in ("perceptual_content", "perceptual_style", "swap_style"):
        assert np.isfinite(logs[name]) and logs[name] > 0, name
    after = model.generator.trainable_weights
    assert any(not np.allclose(b, _numpy(a)) for b, a in zip(before, after))


def test_paper_encoder_without_label_or_variance():
    config = load_config(overrides=["model.conditional_encoder=false", "model.variational=false"])
    model = build_model(config, (28, 28, 1))
    assert len(model.style_encoder.inputs) == 1 and len(model.style_encoder.outputs) == 1


def test_class_mmd_detects_class_dependence():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 20)
    independent = rng.normal(size=(200, 16)).astype("float32")
    dependent = independent + 2.0 * np.eye(16, dtype="float32")[labels]
    low = float(np.mean(class_mmd(independent, labels, 10)))
    high = float(np.mean(class_mmd(dependent, labels, 10)))
    assert abs(low) < 0.01 and high > 0.1
    # Scale-free: shrinking the codes cannot hide the dependence.
    assert float(np.mean(class_mmd(1e-3 * dependent, labels, 10))) == pytest.approx(high, rel=0.05)


def test_info_term_trains_generator_but_never_the_content_head():
    overrides = ["loss.reconstruction=0", "loss.content=0", "loss.adversary=0", "loss.kl=0",
                 "loss.independence=0", "loss.info=1", "adversary.extra_steps=0", *TINY_NETS]
    model = build_model(load_config(overrides=overrides), (28, 28, 1), steps_per_epoch=10)
    images = np.random.default_rng(0).random((16, 28, 28, 1)).astype("float32")
    labels = np.arange(16) % 10
    content_before = [_numpy(w).copy() for w in model.content_head.trainable_weights]
    generator_before = [_numpy(w).copy() for w in model.generator.trainable_weights]
    logs = model.train_on_batch(images, labels, return_dict=True)
    assert np.isfinite(logs["info"])
    assert all(np.array_equal(a, _numpy(w))
               for a, w in zip(content_before, model.content_head.trainable_weights))
    assert not all(np.array_equal(a, _numpy(w))
                   for a, w in zip(generator_before, model.generator.trainable_weights))


def _swap_consistency(model, images, labels):
    """Squared distance between codes and the re-encoded swaps' codes, over that between codes
    of different images (the style consistency of METRICS, on the raw code)."""
    images, targets = ops.convert_to_tensor(images), ops.convert_to_tensor((labels + 3) % 10)
    codes = model.encoder_outputs(images, ops.convert_to_tensor(labels), False)[0]
    swapped = model.generate(codes, targets, training=True)  # batch statistics: a short training
    recovered = _numpy(model.encoder_outputs(swapped, targets, False)[0])
    codes = _numpy(codes)
    pairs = np.sum((codes[:, None] - codes[None]) ** 2, -1)
    spread = np.mean(pairs) * len(codes) / (len(codes) - 1)  # diagonal pairs (0) left out
    return np.mean(np.sum((recovered - codes) ** 2, -1)) / spread


@pytest.mark.slow
def test_swap_cycle_trains_encoder_and_generator_to_keep_the_swapped_style():
    images = np.random.default_rng(0).random((32, 28, 28, 1)).astype("float32")
    labels = np.arange(32) % 10
    consistency = {}
    for weight in (0, 3):
        keras.utils.set_random_seed(0)
        overrides = ["loss.content=0", "loss.adversary=0", "loss.independence=0", "loss.info=0",
                     f"loss.swap_cycle={weight}", "adversary.extra_steps=0", *TINY_NETS]
        model = build_model(load_config(overrides=overrides), (28, 28, 1), steps_per_epoch=10)
        content_before = [_numpy(w).copy() for w in model.content_head.trainable_weights]
        for _ in range(25):
            logs = model.train_on_batch(images, labels, return_dict=True)
        assert ("swap_cycle" in logs) == (weight > 0) and np.isfinite(logs["loss"])
        assert all(np.array_equal(a, _numpy(w))
                   for a, w in zip(content_before, model.content_head.trainable_weights))
        consistency[weight] = _swap_consistency(model, images, labels)
    assert consistency[3] < 0.7 * consistency[0], consistency


def test_train_step_updates_adversary_and_ramps_lambda():
    model = build_model(load_config(overrides=["adversary.extra_steps=3", *TINY_NETS]),
                        (28, 28, 1), steps_per_epoch=10)
    images = np.random.default_rng(0).random((16, 28, 28, 1)).astype("float32")
    labels = np.arange(16) % 10
    lambdas = [model.train_on_batch(images, labels, return_dict=True)["reversal_lambda"]
               for _ in range(3)]
    assert lambdas == sorted(lambdas) and lambdas[0] < lambdas[-1]
    assert int(model.adversary_optimizer.iterations) == 9
    assert int(model.optimizer.iterations) == 3


def test_adversary_reset_draws_fresh_weights_and_restarts_its_optimizer_inside_fit():
    """adversary.reset_epochs: at the start of every N-th epoch the adversary gets new weights
    (the same ones for the same seed) and Adam's moments and step count restart (its learning
    rate stays); on JAX the reset must reach the state the compiled step carries."""
    from infoae.training.callbacks import AdversaryReset

    model = build_model(load_config(overrides=["adversary.extra_steps=1", "model.style_dim=4",
                                               *TINY_NETS]), (28, 28, 1), steps_per_epoch=2)
    images = np.random.default_rng(0).random((32, 28, 28, 1)).astype("float32")
    labels = np.arange(32) % 10
    model.fit(images, labels, batch_size=16, epochs=3, verbose=0,
              callbacks=[AdversaryReset(every=2, seed=0)])
    # 2 steps per epoch, 1 extra adversary update each: 6 without the reset at epoch 2's start.
    assert int(model.adversary_optimizer.iterations) == 2
    assert int(model.optimizer.iterations) == 6
    rate = float(_numpy(model.adversary_optimizer.learning_rate))
    assert rate == pytest.approx(model.config.adversary.learning_rate)

    trained = [_numpy(w) for w in model.adversary.trainable_weights]
    reset_adversary(model, seed=7)
    first = [_numpy(w) for w in model.adversary.trainable_weights]
    reset_adversary(model, seed=7)
    again = [_numpy(w) for w in model.adversary.trainable_weights]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not any(np.array_equal(a, b) for a, b in zip(trained, first) if a.ndim == 2)
    assert all(not np.any(_numpy(v)) for v in model.adversary_optimizer.variables
               if v.name != "learning_rate")
    assert float(_numpy(model.adversary_optimizer.learning_rate)) == rate


def test_pruning_drops_dimensions_that_carry_nothing():
    """Dimensions whose mean is constant and whose variance is the prior's carry 0 nats and
    are set to 0 in the style code; informative ones are kept untouched."""
    model = build_model(load_config(overrides=["model.style_dim=6"]), (28, 28, 1))
    mean_layer = model.style_encoder.get_layer("style_mean")
    log_var_layer = model.style_encoder.get_layer("style_log_var")
    kernel, bias = [_numpy(w) for w in mean_layer.weights]
    kernel[:, :3] *= 50.0  # Dimensions 0-2 vary from image to image;
    kernel[:, 3:] = 0.0  # dimensions 3-5: the same mean for every image...
    mean_layer.set_weights([kernel, np.zeros_like(bias)])
    log_var_kernel, log_var_bias = [_numpy(w) for w in log_var_layer.weights]
    log_var_bias[:3], log_var_bias[3:] = -8.0, 0.0  # ...and the prior's unit variance.
    log_var_layer.set_weights([np.zeros_like(log_var_kernel), log_var_bias])
    images = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
    labels = np.arange(64) % 10

    nats = model.prune_style(images, labels)
    assert np.all(nats[3:] < 1e-6) and np.all(nats[:3] > 0.5)
    np.testing.assert_array_equal(model.style_mask, [1, 1, 1, 0, 0, 0])
    pruned = _numpy(model.encode_style(images, labels))
    full = _numpy(model.encode_style(images, labels, pruned=False))
    assert np.all(pruned[:, 3:] == 0.0)
    np.testing.assert_array_equal(pruned[:, :3], full[:, :3])


@pytest.mark.parametrize("kernel_size, size", [(4, 7), (3, 5), (5, 4)])
def test_transposed_convolution_is_keras_own_with_the_same_kernel_gradient(kernel_size, size):
    """The generator's Conv2DTranspose: Keras' layer (its name in weight files, its outputs);
    on JAX on a CPU its kernel gradient is the per-tap sum of infoae.model.conv_transpose,
    which must equal the backend's own gradient of Keras' layer to float32 rounding. The sum
    itself (pure JAX) is checked against the backend in use too, TensorFlow's included."""
    from infoae.model.conv_transpose import Conv2DTranspose, _kernel_gradient

    rng = np.random.default_rng(kernel_size * 10 + size)
    x = rng.normal(size=(3, size, size, 5)).astype("float32")
    ours = Conv2DTranspose(6, kernel_size, strides=2, padding="same")
    theirs = keras.layers.Conv2DTranspose(6, kernel_size, strides=2, padding="same")
    ours.build(x.shape), theirs.build(x.shape)
    kernel = rng.normal(size=ours.kernel.shape).astype("float32")
    for layer in (ours, theirs):
        layer.kernel.assign(kernel), layer.bias.assign(np.arange(6, dtype="float32"))
    assert ours.name.startswith("conv2d_transpose") and len(ours.weights) == 2
    upstream = rng.normal(size=(3, 2 * size, 2 * size, 6)).astype("float32")
    outputs = {name: _numpy(layer(x)) for name, layer in (("ours", ours), ("theirs", theirs))}
    gradients = {name: _kernel_gradient_of(layer, x, upstream)
                 for name, layer in (("ours", ours), ("theirs", theirs))}
    np.testing.assert_array_equal(outputs["ours"], outputs["theirs"])
    input_gradients = [_value_and_gradient(lambda v, layer=layer: layer(v) * upstream, x)[1]
                       for layer in (ours, theirs)]
    np.testing.assert_array_equal(*input_gradients)
    scale = np.abs(gradients["theirs"]).max()
    np.testing.assert_allclose(gradients["ours"], gradients["theirs"], atol=1e-5 * scale)
    tap_sum = np.asarray(_kernel_gradient(x, kernel, (2, 2), upstream))
    np.testing.assert_allclose(tap_sum, gradients["theirs"], atol=1e-5 * scale)
    if keras.backend.backend() == "jax":
        import jax

        assert ours._tap_gradient() == (jax.default_backend() == "cpu")


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_resize_convolution_generator(shape):
    config = load_config(overrides=["model.generator_upsample=resize", "model.generator_kernel=3"])
    model = build_model(config, shape)
    kinds = [type(layer).__name__ for layer in model.generator.layers]
    assert kinds.count("UpSampling2D") == 3 and "Conv2DTranspose" not in kinds
    generated = _numpy(model.generate(np.zeros((2, config.model.style_dim), "float32"),
                                      np.array([1, 7])))
    assert generated.shape == (2,) + shape
    assert generated.min() >= 0.0 and generated.max() <= 1.0


@pytest.mark.slow
def test_mixed_bfloat16_computes_in_bfloat16_and_learns():
    """Layers compute in bfloat16; weights, codes, logits, images and losses stay float32;
    the global policy is left as it was; a few steps on real digits lower the losses; and the
    weights give the same outputs in a float32 model."""
    from infoae.data import load_mnist_sample, to_float

    small = ["model.encoder_filters=[8, 16, 32]", "model.generator_filters=[32, 16, 8]",
             "model.encoder_dense=64", "model.adversary_hidden=64",
             "model.content_filters=[8, 16]", "model.content_dense=64"]  # CPUs without bfloat16
    # units emulate it, slowly: the smallest widths that still learn in 40 steps (the head at
    # TINY_HEAD's 32 units reached content accuracy 0.797, at 64 units 0.867).
    config = load_config(overrides=["train.precision=mixed_bfloat16", "train.learning_rate=0.003",
                                    *small])
    model = build_model(config, (28, 28, 1), steps_per_epoch=40)
    assert keras.config.dtype_policy().name == "float32"
    assert {layer.compute_dtype for layer in model.generator.layers} == {"bfloat16", "float32"}
    assert all(w.dtype == "float32" for w in model.weights)
    (images, labels), _ = load_mnist_sample()
    images, labels = to_float(images[:512]), labels[:512]
    codes, probabilities = model(images[:8])
    generated = model.generate(codes, labels[:8])
    assert codes.dtype == probabilities.dtype == generated.dtype == "float32"

    first = model.evaluate(images, labels, batch_size=128, verbose=0, return_dict=True)
    model.fit(images, labels, batch_size=64, epochs=5, verbose=0)
    last = model.evaluate(images, labels, batch_size=128, verbose=0, return_dict=True)
    assert last["reconstruction"] < 0.7 * first["reconstruction"]
    assert last["content_acc"] > 0.8 and first["content_acc"] < 0.3

    plain = build_model(load_config(overrides=small), (28, 28, 1))
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(_numpy(plain(images[:64])[1]), _numpy(model(images[:64])[1]),
                               atol=0.05)


def test_content_shift_moves_each_image_by_whole_pixels_within_the_limit():
    import keras

    images = np.zeros((64, 28, 28, 1), "float32")
    images[:, 14, 14, 0] = 1.0
    shifted = _numpy(random_shift(images, 2, keras.random.SeedGenerator(0)))[..., 0]
    assert np.allclose(shifted.sum(axis=(1, 2)), 1.0) and np.allclose(shifted.max(axis=(1, 2)), 1.0)
    rows, cols = np.unravel_index(shifted.reshape(64, -1).argmax(1), (28, 28))
    assert np.abs(rows - 14).max() == 2 and np.abs(cols - 14).max() == 2
    assert len(set(zip(rows, cols))) > 10  # Each image draws its own offset.


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="JAX always compiles the step (train.jit_compile is TensorFlow's)")
@pytest.mark.slow
def test_xla_compiled_step_matches_the_plain_one():
    """train.jit_compile: the XLA-compiled step (content shift included) trains to the same
    losses as the plain step, from the same seed."""
    overrides = ["model.encoder_filters=[8, 8, 16]", "model.generator_filters=[16, 8, 8]",
                 "model.encoder_dense=32", "model.adversary_hidden=32", "model.content_dropout=0",
                 "adversary.extra_steps=1"]
    images = np.random.default_rng(0).random((32, 28, 28, 1)).astype("float32")
    labels = np.arange(32) % 10
    logs = []
    for jit in ("false", "true"):
        model = build_model(load_config(overrides=overrides + [f"train.jit_compile={jit}"]),
                            (28, 28, 1), steps_per_epoch=10)
        assert model.jit_compile == (jit == "true")
        for _ in range(3):
            last = model.train_on_batch(images, labels, return_dict=True)
        logs.append(last)
    for name in ("reconstruction", "content_ce", "adversary_ce", "info"):
        assert np.isfinite(logs[1][name])
        assert logs[1][name] == pytest.approx(logs[0][name], rel=0.02, abs=1e-4), name
