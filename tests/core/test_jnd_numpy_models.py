"""The NumPy forms of chou1995, yang2005 and wu2017 (jndviewer.core.jnd.numpy_models), the one-shot map's path:
against the independent float64 reference, against the torch models in float32, and ``jndviewer map`` without torch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from jndviewer.cli import main
from jndviewer.cli_map import choose_engine
from jndviewer.core.errors import JndViewerError, ModelError
from jndviewer.core.jnd import canny, compiled, create_model, numpy_models
from tests.core.test_jnd_models import natural_image, random_image
from tests.reference import numpy_jnd as reference

NAMES = tuple(numpy_models.NUMPY_MODELS)
BORDERS = ("replicate", "zero")
IMAGES = {
    "random": lambda: random_image(40, 52, seed=7),
    "natural": lambda: natural_image(64, 80, seed=8),
}


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("image", sorted(IMAGES))
@pytest.mark.parametrize("name", NAMES)
def test_float64_equals_the_independent_reference(name: str, image: str, border: str) -> None:
    """The formulas, checked in float64 on images without exact ties (on plateaus, which of two equal gradients is
    Canny's maximum depends on rounding: float64 takes NumPy's, the float32 test below torch's)."""
    img = IMAGES[image]()
    threshold, components = numpy_models.compute_map(name, img, border, dtype=np.float64)
    want = reference.MODELS[name](img, border=border)
    got = {"threshold": threshold, **components}
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key].dtype == np.float64
        np.testing.assert_allclose(got[key], value, rtol=0, atol=1e-9, err_msg=f"{name} {border} {key}")


def torch_map(name: str, img: np.ndarray, border: str) -> dict[str, np.ndarray]:
    """The torch model's float32 map on its CPU path without the compiled kernels (the path the NumPy form mirrors)."""
    luma = torch.from_numpy(img.astype(np.float32))[None, None]
    with compiled.switched(False):
        result = create_model(name, border=border)(luma)
    return {"threshold": result.threshold[0, 0].numpy(), **{k: v[0, 0].numpy() for k, v in result.components.items()}}


def plateaus(kind: str) -> np.ndarray:
    """Images whose gradients tie exactly: there the rounding of each multiply-add decides Canny's edges."""
    yy, xx = np.mgrid[0:60, 0:80]
    if kind == "blocks":
        return np.kron(np.random.default_rng(2).integers(0, 2, (12, 16)) * 255.0, np.ones((5, 5)))
    if kind == "ramp":
        return np.tile(np.linspace(0.0, 255.0, 64), (40, 1))
    if kind == "diagonal ramp":
        return (xx + yy) * 1.7
    return np.where(np.random.default_rng(11).random((60, 80)) < 0.1, 0.0, 255.0)  # "text": sparse dark dots


FLOAT32_IMAGES = {
    "natural": lambda: natural_image(96, 128, seed=4) + 0.37,  # off the integers, as the luma of RGB pixels is
    **{kind: (lambda kind=kind: plateaus(kind)) for kind in ("blocks", "ramp", "diagonal ramp", "text")},
}


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("image", list(FLOAT32_IMAGES))
@pytest.mark.parametrize("name", NAMES)
def test_float32_equals_the_torch_model_to_rounding(name: str, image: str, border: str) -> None:
    """The same operations in the same order, each multiply-add rounded once as torch's are: equal to a few float32
    ulps also where gradients tie (ramps, blocks: NumPy's separately rounded multiply and add picked other Canny
    edges there, up to 12.8 gray levels apart), the components in the model's order."""
    img = FLOAT32_IMAGES[image]()
    threshold, components = numpy_models.compute_map(name, img, border)
    want = torch_map(name, img, border)
    assert threshold.dtype == np.float32
    assert list(components) == list(create_model(name).component_names)
    for key, value in {"threshold": threshold, **components}.items():
        np.testing.assert_allclose(value, want[key], rtol=1e-5, atol=1e-4, err_msg=f"{name} {border} {key}")


def test_the_fused_multiply_add_rounds_once() -> None:
    a, b, c = np.float32(1 + 2**-12), np.float32(1 + 2**-12), np.float32(-1 - 2**-11)
    exact = (1 + 2**-12) ** 2 - 1 - 2**-11  # 2**-24, lost when the product is rounded to float32 first
    fused = numpy_models.fused_multiply_add(np.array([a]), np.array([b]), np.array([c]))
    assert fused.dtype == np.float32 and float(fused[0]) == exact
    assert float((np.array([a]) * b + c)[0]) == 0.0


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.6])
def test_canny_edges_equal_the_torch_canny(threshold: float) -> None:
    img = (natural_image(90, 120, seed=11) * 0.93).astype(np.float32)
    want = canny.canny_matlab(torch.from_numpy(img)[None, None], threshold)[0, 0].numpy()
    got = numpy_models.canny_matlab(img, threshold)
    assert want.sum() > 100
    np.testing.assert_array_equal(got, want)


def test_a_photograph_agrees_with_the_torch_model_but_for_gradient_angles_on_a_bin_edge() -> None:
    """On real luma, wu2017 agrees but where a gradient's angle rounds to a half degree: numpy's and torch's atan2
    differ in the last bit there (1 pixel of kodim02, 16 of its blurred complexity); everything else to rounding."""
    from jndviewer.core.image import load

    luma = load(Path(__file__).resolve().parents[2] / "jndviewer" / "assets" / "sample.png").luma()
    threshold, _ = numpy_models.compute_map("wu2017", luma)
    want = torch_map("wu2017", luma, "replicate")["threshold"]
    difference = np.abs(threshold - want)
    assert (difference < 1e-3).mean() >= 0.9999
    assert difference.max() < 1.0


def test_the_edge_protection_sees_the_canny_threshold_of_a_flat_image() -> None:
    """A flat image has no edge height: 60 / 0 is clamped to 0.8 as in the torch model, and no edge is found."""
    flat = np.full((32, 40), 90.0)
    threshold, components = numpy_models.compute_map("wu2017", flat)
    want = torch_map("wu2017", flat, "replicate")
    np.testing.assert_allclose(threshold, want["threshold"], rtol=1e-6)
    assert (components["edge_protection"] == 1.0).all()


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: numpy_models.compute_map("wu2013", np.zeros((16, 16))), "wu2013 has no NumPy form"),
        (lambda: numpy_models.compute_map("wu2017", np.zeros((7, 30))), "at least 8 x 8"),
        (lambda: numpy_models.compute_map("wu2017", np.zeros((16, 16, 3))), "one H x W luma plane"),
        (lambda: numpy_models.compute_map("chou1995", np.zeros((16, 16)), border="mirror"), "Unknown border"),
    ],
)
def test_bad_calls_are_one_sentence(call, fragment: str) -> None:
    with pytest.raises(ModelError, match=fragment):
        call()


def test_the_engine_choice() -> None:
    small, large = 768 * 512, numpy_models.ONE_SHOT_NUMPY_UP_TO["wu2017"] + 1
    assert choose_engine("auto", "wu2017", "auto", small) == "numpy"
    assert choose_engine("auto", "wu2017", " CPU ", small) == "numpy"
    assert choose_engine("auto", "wu2017", "cuda", small) == "torch"
    assert choose_engine("auto", "wu2017", "cpu", large) == "torch"
    assert choose_engine("auto", "wu2013", "cpu", small) == "torch"
    assert choose_engine("torch", "chou1995", "cpu", small) == "torch"
    assert choose_engine("numpy", "wu2017", "cpu", large) == "numpy"
    with pytest.raises(JndViewerError, match="wu2013 has no NumPy form"):
        choose_engine("numpy", "wu2013", "cpu", small)
    with pytest.raises(JndViewerError, match="computes on the CPU, not on cuda:1"):
        choose_engine("numpy", "yang2005", "cuda:1", small)
    with pytest.raises(JndViewerError, match="'gpu' is not a device jndviewer knows"):
        choose_engine("numpy", "yang2005", "gpu", small)
    assert choose_engine("auto", "wu2017", "", small) == "numpy"  # "" is auto, as select_device reads it


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(natural_image(60, 84, seed=5).astype(np.uint8)).convert("RGB").save(path)
    return path


def test_map_says_which_engine_computed_it_and_both_agree(photo: Path, tmp_path: Path, capsys) -> None:
    for engine in ("numpy", "torch"):
        assert main(["map", str(photo), "--engine", engine, "--components", "-o", str(tmp_path / f"{engine}.npy")]) == 0
    printed = capsys.readouterr().out
    assert "wu2017 on cpu (NumPy) in" in printed and "wu2017 on cpu (" in printed.split("NumPy")[1]
    for name in ["", *(f".{c}" for c in create_model("wu2017").component_names)]:
        numpy_result, torch_result = np.load(tmp_path / f"numpy{name}.npy"), np.load(tmp_path / f"torch{name}.npy")
        np.testing.assert_allclose(numpy_result, torch_result, rtol=1e-5, atol=1e-4, err_msg=name)


def test_map_with_an_engine_that_cannot_serve_is_one_line(photo: Path, tmp_path: Path, capsys) -> None:
    assert main(["map", str(photo), "--model", "wu2013", "--engine", "numpy", "-o", str(tmp_path / "m.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jndviewer: error: wu2013 has no NumPy form") and err.count("\n") == 1
    assert not (tmp_path / "m.png").exists()


@pytest.mark.parametrize(("arguments", "imports_torch"), [([], False), (["--engine", "torch"], True)])
def test_a_one_shot_map_imports_torch_only_for_the_torch_engine(
    photo: Path, tmp_path: Path, arguments: list[str], imports_torch: bool
) -> None:
    out = tmp_path / "m.png"
    script = (
        "import sys; from jndviewer.cli import main; "
        f"code = main(['map', {str(photo)!r}, '-o', {str(out)!r}, *{arguments!r}]); "
        "print('torch' in sys.modules); sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == str(imports_torch)
    assert Image.open(out).width > 84
