"""infoae.model.trained.Run: what a run reads from images, remembered by the exact input."""

import numpy as np
import pytest

from infoae.config import load_config
from infoae.model.autoencoder import build_model
from infoae.model.class_map import ClassMap
from infoae.model.memo import Memo, fingerprint
from infoae.model.trained import Run
from tests.helpers import TINY_HEAD

pytestmark = pytest.mark.backends  # Also run on JAX by the README's test command.

SMALL = ["model.encoder_filters=[8, 16, 16]", "model.generator_filters=[16, 8, 8]",
         "model.encoder_dense=32", "model.style_dim=6", *TINY_HEAD]


def _counted(network, counts, name):
    """network's calls counted in counts[name]."""
    call = network.call

    def counting(*args, **kwargs):
        counts[name] = counts.get(name, 0) + 1
        return call(*args, **kwargs)
    network.call = counting


def test_memo_keys_on_content_and_gives_copies():
    memo, calls = Memo(2), []
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    compute = lambda: calls.append(1) or a * 2  # noqa: E731
    first = memo.get(("x", fingerprint(a)), compute)
    first[0, 0] = -1.0  # The caller's copy: the remembered one is untouched.
    again = memo.get(("x", fingerprint(a.copy())), compute)
    assert len(calls) == 1 and again[0, 0] == 0.0
    changed = a.copy()
    changed[2, 3] += 1e-6  # Another content, another key.
    assert fingerprint(changed) != fingerprint(a) != fingerprint(a.astype(np.float64))
    memo.get(("x", fingerprint(changed)), compute)
    memo.get(("y", fingerprint(a)), compute)
    memo.get(("x", fingerprint(a)), compute)  # Evicted by the two newer ones: computed again.
    assert len(calls) == 4


@pytest.mark.parametrize("conditional", [True, False])
def test_a_run_reads_each_image_set_once_with_the_same_codes(conditional):
    """An evaluation asks for the codes of one image set several ways (pruned or not, mapped
    or not, then the content head's classes again): each network reads it once, and every
    answer is what the model computes directly."""
    config = load_config(overrides=SMALL + [f"model.conditional_encoder={str(conditional).lower()}"])
    model = build_model(config, (28, 28, 1))
    model.style_mask = np.array([1, 1, 0, 1, 1, 0], np.float32)
    rng = np.random.default_rng(0)
    images = rng.random((300, 28, 28, 1)).astype(np.float32)
    run = Run(None, model, config)
    run.class_maps = {name: ClassMap.fit(rng.normal(size=(500, 6)) * mask, rng.integers(
        0, 10, 500), 10, "moments") for name, mask in (("kept", model.style_mask),
                                                        ("all", np.ones(6)))}
    counts = {}
    _counted(model.content_head, counts, "content")
    _counted(model.style_encoder, counts, "encoder")
    readings = [run.encode_style(images, pruned, normalised)
                for pruned in (True, False) for normalised in (True, False)]
    own, mapped = run.style_codes(images)
    probabilities = run.predict_content(images)
    assert counts == {"content": 1, "encoder": 1}  # One batch of 300 each.

    labels = probabilities.argmax(1)
    direct = np.asarray(model.encode_style(images, labels, pruned=False))  # Read: 2.
    np.testing.assert_array_equal(readings[3], direct)
    np.testing.assert_array_equal(readings[1], direct * model.style_mask)
    np.testing.assert_array_equal(own, readings[1])
    np.testing.assert_array_equal(mapped, readings[0])
    np.testing.assert_array_equal(readings[0], run.class_maps["kept"].forward(
        direct * model.style_mask, labels))
    run.encode_style(images[::-1])  # Other images: read again.
    assert counts == {"content": 2, "encoder": 3}
