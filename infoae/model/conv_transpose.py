"""The generator's transposed convolution, with a faster kernel gradient on JAX on a CPU.

XLA's CPU backend computes the kernel gradient of a strided transposed convolution (a
convolution with window dilation) through a slow generic loop: in a training step of the MNIST
generator (kernel 4, stride 2) it took about half of the step's time on JAX, against a
fraction on TensorFlow (`docs/speed.md`, "JAX on a CPU"). ``Conv2DTranspose`` here is Keras'
own layer (the same weights, the same name in weight files, the same outputs) whose kernel
gradient on JAX on a CPU is the same sum written as one matrix product per kernel tap: tap
(a, b) of a stride-s "same" transposed convolution adds x[i, j] times the kernel to output
(s * i + off(a), s * j + off(b)), so its gradient is the sum over images and positions of
that output's gradient times x. The forward pass and the input's gradient are XLA's own; the
kernel gradient agrees with XLA's to float32 rounding (about 1e-6 relative;
`tests/test_model.py`). Elsewhere (TensorFlow, JAX on a GPU) the layer is Keras' unchanged.
"""

from __future__ import annotations

import functools

import keras


@keras.saving.register_keras_serializable(package="infoae")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """keras.layers.Conv2DTranspose, with the kernel gradient above on JAX on a CPU (for
    "same" padding, channels last, no dilation or output padding; else Keras' own path)."""

    def call(self, inputs):
        if not self._tap_gradient():
            return super().call(inputs)
        from keras import ops

        kernel = ops.convert_to_tensor(self.kernel)
        outputs = _transposed_convolution()(inputs, kernel, tuple(self.strides))
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1, 1, 1, self.filters)))
        return outputs if self.activation is None else self.activation(outputs)

    def _tap_gradient(self) -> bool:
        if keras.backend.backend() != "jax":
            return False
        import jax

        return (jax.default_backend() == "cpu" and self.padding == "same"
                and self.data_format == "channels_last" and self.output_padding is None
                and tuple(self.dilation_rate) == (1, 1))


@functools.cache
def _transposed_convolution():
    """keras.ops.conv_transpose(x, kernel, strides, "same") as a JAX function with the
    per-tap kernel gradient (built once, on first use: JAX is imported only on JAX)."""
    import jax
    from keras import ops

    def forward_only(x, kernel, strides):
        return ops.conv_transpose(x, kernel, strides=strides, padding="same")

    @functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
    def convolve(x, kernel, strides):
        return forward_only(x, kernel, strides)

    def forward(x, kernel, strides):
        return forward_only(x, kernel, strides), (x, kernel)

    def backward(strides, saved, gradient):
        x, kernel = saved
        _, input_vjp = jax.vjp(lambda x: forward_only(x, kernel, strides), x)
        return input_vjp(gradient)[0], _kernel_gradient(x, kernel, strides, gradient)

    convolve.defvjp(forward, backward)
    return convolve


def _kernel_gradient(x, kernel, strides, gradient):
    """d loss / d kernel (kh, kw, filters, channels): for each tap, the output gradient at the
    positions the tap writes to, times the input, summed over images and positions."""
    import jax.numpy as jnp

    (_, height, width, _), (kh, kw) = x.shape, kernel.shape[:2]
    (row_offsets, col_offsets), (sh, sw) = tap_offsets(x.shape, kernel.shape, strides), strides
    low_r, low_c = max(0, -min(row_offsets)), max(0, -min(col_offsets))
    high_r = max(0, sh * (height - 1) + max(row_offsets) + 1 - gradient.shape[1])
    high_c = max(0, sw * (width - 1) + max(col_offsets) + 1 - gradient.shape[2])
    padded = jnp.pad(gradient, ((0, 0), (low_r, high_r), (low_c, high_c), (0, 0)))

    def tap(a, b):
        r, c = row_offsets[a] + low_r, col_offsets[b] + low_c
        written = padded[:, r:r + sh * (height - 1) + 1:sh, c:c + sw * (width - 1) + 1:sw, :]
        return jnp.einsum("nhwo,nhwi->oi", written, x)

    taps = jnp.stack([jnp.stack([tap(a, b) for b in range(kw)]) for a in range(kh)])
    return taps.astype(kernel.dtype)


def tap_offsets(x_shape, kernel_shape, strides) -> list[list[int]]:
    """Per spatial axis, off(a) of each kernel tap a: the tap adds input position i to output
    position stride * i + off(a) (Keras' "same" padding of a transposed convolution on JAX:
    lax.conv_transpose with the flipped kernel, off(a) = a - (k - 1 - padding before))."""
    from keras.src.backend.common.backend_utils import (
        compute_conv_transpose_padding_args_for_jax)

    padding = compute_conv_transpose_padding_args_for_jax(
        x_shape, kernel_shape, strides, "same", None, 1)
    return [[a - (k - 1 - low) for a in range(k)]
            for k, (low, _) in zip(kernel_shape[:2], padding)]
