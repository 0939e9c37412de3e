"""The switch between the compiled kernels and the torch path (jndviewer.core.jnd.compiled), and what a one-shot
``jndviewer map`` imports."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from jndviewer.cli import main
from jndviewer.core.image import load, luma_tensor
from jndviewer.core.jnd import MODELS, compiled, create_model, numpy_models
from tests.core.test_jnd_models import natural_image


def small_luma(seed: int = 7, height: int = 40, width: int = 56) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    plane = natural_image(height, width, seed=seed) + rng.uniform(-0.5, 0.5, (height, width))
    return torch.from_numpy(plane.astype(np.float32))[None, None]


@pytest.mark.parametrize("name", list(MODELS))
def test_switching_the_kernels_off_gives_the_same_map(name: str) -> None:
    luma = small_luma()
    assert compiled.enabled()
    with_kernels = create_model(name)(luma)
    with compiled.switched(False):
        assert not compiled.use_kernels(luma)
        torch_path = create_model(name)(luma)
    assert compiled.enabled() and compiled.use_kernels(luma)
    assert with_kernels.components.keys() == torch_path.components.keys()
    if name == "wu2013":  # its compiled 2^x moves a rounded prediction by 1 gray level on a few pixels per million
        difference = (with_kernels.threshold - torch_path.threshold).abs()
        assert float((difference > 1e-3).float().mean()) <= 0.01
        return
    torch.testing.assert_close(with_kernels.threshold, torch_path.threshold, rtol=1e-5, atol=1e-4)
    for part in torch_path.components:
        torch.testing.assert_close(with_kernels.components[part], torch_path.components[part], rtol=1e-5, atol=1e-4)


def test_switched_restores_the_setting_after_an_error() -> None:
    with pytest.raises(RuntimeError), compiled.switched(False):
        assert not compiled.enabled()
        raise RuntimeError
    assert compiled.enabled()


def test_switched_holds_for_its_own_thread_only() -> None:
    """Two workers' blocks overlap without undoing each other (with one process-wide flag, the later ``finally``
    left the kernels off for good) and without reaching the other thread."""
    inside, release = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def worker() -> None:
        with compiled.switched(False):
            seen["worker inside"] = compiled.enabled()
            inside.set()
            release.wait(10)
        seen["worker after"] = compiled.enabled()

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(10)
    with compiled.switched(False):  # the main thread's block opens while the worker's is open
        seen["main inside"] = compiled.enabled()
    seen["main during the worker's block"] = compiled.enabled()
    release.set()
    thread.join(10)
    assert seen == {"worker inside": False, "main inside": False, "main during the worker's block": True,
                    "worker after": True}
    assert compiled.enabled()
    with compiled.switched(True), compiled.switched(False):  # nested blocks restore each level
        assert not compiled.enabled()
    assert compiled.enabled()


def test_the_kernels_serve_float32_on_the_cpu_only() -> None:
    assert compiled.use_kernels(torch.zeros(1, dtype=torch.float32))
    assert not compiled.use_kernels(torch.zeros(1, dtype=torch.float64))


def test_one_shot_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "_forced", None)
    monkeypatch.setattr(compiled, "loaded", lambda: False)
    small, large = 768 * 512, 10**9
    assert not compiled.worth_loading("wu2017", small) and compiled.worth_loading("wu2017", large)
    assert not compiled.worth_loading("wu2013", small) and compiled.worth_loading("wu2013", 1920 * 1080)
    monkeypatch.setattr(compiled, "loaded", lambda: True)  # loaded already: nothing left to save
    assert compiled.worth_loading("wu2017", small)
    monkeypatch.setattr(compiled, "_forced", False)
    assert not compiled.worth_loading("wu2013", large)
    monkeypatch.setattr(compiled, "_forced", True)
    assert compiled.worth_loading("chou1995", small)


def test_component_roots_equal_scipys_components() -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(4)
    for count, edges in ((1, 0), (5, 0), (50, 30), (400, 380), (2000, 1500), (3000, 6000)):
        source, target = rng.integers(0, count, edges), rng.integers(0, count, edges)
        roots = numpy_models.component_roots(count, source, target)
        graph = coo_matrix((np.ones(edges, dtype=np.int8), (source, target)), shape=(count, count))
        _, labels = connected_components(graph, directed=False)
        # the same partition: each component's root is its smallest node
        smallest = np.full(labels.max() + 1, count)
        np.minimum.at(smallest, labels, np.arange(count))
        np.testing.assert_array_equal(roots, smallest[labels])
    path = np.arange(9999)  # one long chain, numbered against its order
    order = rng.permutation(10000)
    roots = numpy_models.component_roots(10000, order[path], order[path + 1])
    assert (roots == 0).all()


def test_map_leaves_the_switch_as_it_was(tmp_path: Path) -> None:
    image = tmp_path / "small.png"
    Image.fromarray(natural_image(48, 64, seed=2).astype(np.uint8)).save(image)
    for model in ("wu2017", "wu2013"):
        assert main(["map", str(image), "--model", model, "--device", "cpu", "-o", str(tmp_path / "m.npy")]) == 0
        assert compiled.enabled()


def test_a_one_shot_small_map_imports_neither_numba_nor_scipy_sparse(tmp_path: Path) -> None:
    image = tmp_path / "small.png"
    Image.fromarray(natural_image(48, 64, seed=2).astype(np.uint8)).save(image)
    out = tmp_path / "m.npy"
    script = (
        "import sys; from jndviewer.cli import main; "
        f"code = main(['map', {str(image)!r}, '--model', 'wu2017', '--device', 'cpu', '-o', {str(out)!r}]); "
        "print(sorted(m for m in ('numba', 'scipy.sparse') if m in sys.modules)); sys.exit(code)"
    )
    env = {k: v for k, v in os.environ.items() if k != compiled.KERNELS_ENV}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    with compiled.switched(True):  # the torch path's map equals the kernels'
        want = create_model("wu2017")(luma_tensor(load(image))).threshold[0, 0].numpy()
    np.testing.assert_allclose(np.load(out), want, rtol=1e-5, atol=1e-4)
