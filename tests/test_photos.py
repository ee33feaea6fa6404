"""Your own images as style: photos and scans of digits of any size, colour and orientation."""

import numpy as np
import pytest
from PIL import Image

import infoae
from infoae.cli import main
from infoae.data import load_mnist_sample
from infoae.errors import ImageError
from infoae.transfer.images import prepare_photo

def _photo(digit: np.ndarray, path, dark_ink=True, exif_rotated=True, seed=0):
    """A phone-photo-like picture of a test digit: 360 x 400 pixels, paper with a light
    gradient and noise, ink dark (or light), stored on its side with an EXIF orientation tag
    that turns it upright."""
    rng = np.random.default_rng(seed)
    ink = np.asarray(Image.fromarray(digit).resize((300, 300), Image.BICUBIC), np.float32) / 255
    paper = np.linspace(190, 235, 360)[None, :] * np.ones((400, 1))
    picture = paper + rng.normal(0, 6, paper.shape)
    if not dark_ink:  # Chalk on a blackboard: dark paper, light ink.
        picture = 255 - picture
    picture[50:350, 30:330] += (-150 if dark_ink else 150) * ink
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).convert("RGB")
    if exif_rotated:
        exif = Image.Exif()
        exif[0x0112] = 6  # The pixels are stored turned left; viewers turn them back right.
        image.rotate(90, expand=True).save(path, exif=exif, quality=90)
    else:
        image.save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def digits():
    _, (images, labels) = load_mnist_sample()
    picks = [int(np.flatnonzero(labels == d)[0]) for d in (3, 4, 7)]
    return images[picks, :, :, 0], labels[picks]


@pytest.mark.backends  # Also run on JAX by the README's test command.
@pytest.mark.parametrize("dark_ink", [True, False])
def test_a_photo_is_prepared_as_mnist_was(digits, tmp_path, dark_ink):
    digit = digits[0][0]
    prepared = prepare_photo(_photo(digit, tmp_path / "photo.jpg", dark_ink), (28, 28, 1))
    assert prepared.shape == (28, 28, 1) and prepared.dtype == np.float32
    assert prepared.max() == pytest.approx(1.0) and np.median(prepared) == 0.0
    # Light ink on black, in the 20 x 20 box, centred by mass, upright: like the original.
    rows, cols = np.nonzero(prepared[..., 0] > 0.3)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) <= 20
    mass = prepared[..., 0] / prepared.sum()
    assert abs((mass.sum(1) @ np.arange(28)) - 13.5) < 1.5
    assert np.corrcoef(prepared.ravel(), digit.ravel())[0, 1] > 0.5
    ignored = np.asarray(Image.open(tmp_path / "photo.jpg"))  # Without the EXIF turn...
    assert ignored.shape[:2] == (360, 400)  # ...the picture lies on its side.


@pytest.mark.backends
def test_bad_photos_are_one_line(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    Image.fromarray(np.full((50, 50), 200, np.uint8)).save(tmp_path / "blank.png")
    for name, message in (("notes.png", "cannot read image"), ("blank.png", "shows no digit"),
                          ("missing.png", "does not exist")):
        with pytest.raises(ImageError, match=message) as error:
            prepare_photo(tmp_path / name, (28, 28, 1))
        assert "\n" not in str(error.value)


def test_swap_takes_styles_from_photos(trained_run, digits, tmp_path, capsys):
    paths = [_photo(d, tmp_path / f"digit{i}.jpg", dark_ink=i != 1, seed=i)
             for i, d in enumerate(digits[0])]
    out = tmp_path / "grid.png"
    assert main(["swap", str(trained_run), "--style", *map(str, paths), "--out", str(out)]) == 0
    assert out.is_file() and "Swap grid written" in capsys.readouterr().out
    run = infoae.load_run(trained_run)
    prepared = np.stack([infoae.prepare_photo(p, run.image_shape) for p in paths])
    # The run's content head reads the prepared photos as the digits they show.
    assert np.sum(run.predict_content(prepared).argmax(1) == digits[1]) >= 2
    assert main(["swap", str(trained_run), "--style", str(tmp_path / "none.png"),
                 "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.backends
def test_six_kinds_of_photo_are_prepared_like_the_clean_one():
    """Black on clean white, white on black, blue on yellow, faint pencil on unevenly lit
    paper, a JPEG turned by its EXIF tag and a 16-bit PNG, each made from the same ten real
    test digits, are prepared like the clean white-on-black picture of the digit (and, clean,
    like the MNIST digit itself)."""
    import tempfile
    from pathlib import Path

    from tests.photo_kinds import KINDS, photo

    _, (images, labels) = load_mnist_sample()
    with tempfile.TemporaryDirectory() as directory:
        for d in range(10):
            digit = images[int(np.flatnonzero(labels == d)[0]), :, :, 0]
            reference = prepare_photo(photo("white_on_black", digit, Path(directory)),
                                      (28, 28, 1)).ravel()
            assert np.corrcoef(reference, digit.ravel())[0, 1] > 0.6, d
            for kind in KINDS:
                prepared = prepare_photo(photo(kind, digit, Path(directory)), (28, 28, 1))
                correlation = np.corrcoef(prepared.ravel(), reference)[0, 1]
                assert correlation > (0.7 if kind == "pencil_uneven" else 0.9), (kind, d)


@pytest.mark.backends
def test_transfer_takes_a_photo_that_swap_takes(tmp_path):
    """One preparation serves `swap --style` and `transfer`: a picture of another size is
    prepared as a photo, not refused."""
    from infoae.transfer.images import load_image_file
    from tests.photo_kinds import photo

    _, (images, labels) = load_mnist_sample()
    path = photo("black_on_white", images[0, :, :, 0], tmp_path)
    np.testing.assert_array_equal(load_image_file(path, (28, 28, 1)),
                                  prepare_photo(path, (28, 28, 1)))
