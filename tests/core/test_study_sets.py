"""Study sets: the shipped default set, JSON round trips, sets built from images and folders, and item images."""

from __future__ import annotations

import fnmatch
import json
import os
import threading
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import jndviewer
from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import StudyItem
from jndviewer.core.study.sets import (
    FORMAT,
    ItemImages,
    StudySet,
    default_study_set,
    load_study_set,
    reference_path,
    reference_rgb,
    save_study_set,
    study_set_from_folder,
    study_set_from_image,
)

ROOT = Path(__file__).resolve().parents[2]
STUDY_ASSETS = Path(jndviewer.__file__).parent / "assets" / "study"


def _one_sentence(error: pytest.ExceptionInfo[JndViewerError]) -> str:
    text = str(error.value)
    assert text.endswith(".") and "\n" not in text and ". " not in text.rstrip("."), text
    return text


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _image(path: Path, width: int = 64, height: int = 48, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, width, dtype=np.float64)[None, :, None] + rng.normal(0, 12, (height, width, 3))
    Image.fromarray(np.clip(ramp, 0, 255).astype(np.uint8)).save(path)
    return path


# --- the shipped set -------------------------------------------------------------------------------------------------


def test_default_set_loads_eight_kodak_crops() -> None:
    study_set = default_study_set()
    assert study_set.name == "default" and len(study_set.items) == 8
    assert len({item.item_id for item in study_set.items}) == 8
    assert len({item.source for item in study_set.items}) == 8  # eight different Kodak images
    assert "kodim23" not in {item.source for item in study_set.items}  # the sample image is not reused
    for item in study_set.items:
        assert item.reference.startswith("package:") and item.codec == "jpeg" and item.better == "higher"
        assert item.levels == tuple(range(1, 101)) and item.source.startswith("kodim")
        assert reference_path(item).is_file()
        rgb = reference_rgb(item)
        assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
        origin = study_set.origins[item.item_id]
        assert origin["image"] == f"kodak/{item.source}.png" and origin["box"][2:] == [320, 240]


def test_default_set_folder_is_small() -> None:
    total = sum(path.stat().st_size for path in STUDY_ASSETS.iterdir() if path.is_file())
    assert total < 2_000_000, f"assets/study holds {total} bytes"


def test_package_references_lie_inside_the_package_and_are_package_data() -> None:
    """What a pip-installed wheel needs: the files are found through the package, and pyproject ships them."""
    package = Path(jndviewer.__file__).resolve().parent
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["jndviewer"]
    for item in default_study_set().items:
        path = reference_path(item).resolve()
        assert path.is_relative_to(package)
        assert any(fnmatch.fnmatch(path.relative_to(package).as_posix(), glob) for glob in globs), path
    assert any(fnmatch.fnmatch("assets/study/default.json", glob) for glob in globs)


# --- files -----------------------------------------------------------------------------------------------------------


def test_round_trip_keeps_items_and_writes_relative_paths(tmp_path: Path) -> None:
    folder = tmp_path / "sets"
    (folder / "images").mkdir(parents=True)
    inside = _image(folder / "images" / "a.png")
    outside = _image(tmp_path / "outside.png", seed=1)
    items = (
        StudyItem("a", str(inside), "jpeg", (10, 50, 90), "higher", "a", (4, 4, 32, 24)),
        StudyItem("b", str(outside), "webp", (20, 80), "higher", "b"),
        StudyItem("shipped", "package:kodim04-face.png", "jpeg", tuple(range(1, 101))),
    )
    study_set = StudySet("mine", items, "three items", {"a": {"note": "synthetic"}})
    save_study_set(study_set, folder / "mine.json")
    data = json.loads((folder / "mine.json").read_text())
    assert data["format"] == FORMAT and data["version"] == 1
    assert data["items"][0]["reference"] == "images/a.png"  # inside the file's folder: relative
    assert data["items"][1]["reference"] == str(outside)  # outside: as it was
    assert data["items"][2]["reference"] == "package:kodim04-face.png"
    loaded = load_study_set(folder / "mine.json")
    assert loaded == study_set and loaded.origins == {"a": {"note": "synthetic"}}
    assert [path.name for path in folder.iterdir() if path.is_file()] == ["mine.json"]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert (folder / "mine.json").stat().st_mode & 0o777 == 0o666 & ~umask  # not a temporary file's 0600
    (folder / "mine.json").chmod(0o640)
    save_study_set(loaded, folder / "mine.json")  # overwriting is atomic too, and keeps the file's mode
    assert load_study_set(folder / "mine.json") == study_set
    assert (folder / "mine.json").stat().st_mode & 0o777 == 0o640


def test_a_moved_folder_keeps_working(tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    study_set = study_set_from_image(_image(first / "x.png"), levels=[10, 90])
    save_study_set(study_set, first / "set.json")
    moved = first.rename(tmp_path / "moved")
    item = load_study_set(moved / "set.json").items[0]
    assert Path(item.reference) == moved / "x.png"
    assert reference_rgb(item).shape == (48, 64, 3)


def test_bad_files_give_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(JndViewerError) as error:
        load_study_set(tmp_path / "none.json")
    assert "none.json" in _one_sentence(error)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(JndViewerError) as error:
        load_study_set(tmp_path / "bad.json")
    _one_sentence(error)
    (tmp_path / "other.json").write_text(json.dumps({"format": "something.else", "version": 1}))
    with pytest.raises(JndViewerError, match="not a jndviewer study set") as error:
        load_study_set(tmp_path / "other.json")
    _one_sentence(error)
    (tmp_path / "newer.json").write_text(json.dumps({"format": FORMAT, "version": 99, "items": []}))
    with pytest.raises(JndViewerError, match="newer jndviewer") as error:
        load_study_set(tmp_path / "newer.json")
    _one_sentence(error)
    (tmp_path / "broken.json").write_text(json.dumps({"format": FORMAT, "version": 1, "items": [{"item_id": "a"}]}))
    with pytest.raises(JndViewerError, match="Item 1") as error:
        load_study_set(tmp_path / "broken.json")
    _one_sentence(error)


def test_duplicate_ids_and_unknown_levels_are_refused(tmp_path: Path) -> None:
    item = StudyItem("a", str(tmp_path / "a.png"), "jpeg", (10, 20))
    with pytest.raises(JndViewerError, match="twice") as error:
        StudySet("dup", (item, item))
    _one_sentence(error)
    entry = {**item.to_dict(), "levels": [50, 101, 150]}
    (tmp_path / "levels.json").write_text(json.dumps({"format": FORMAT, "version": 1, "name": "x", "items": [entry]}))
    with pytest.raises(JndViewerError, match="101, 150") as error:
        load_study_set(tmp_path / "levels.json")
    _one_sentence(error)
    with pytest.raises(JndViewerError) as error:
        study_set_from_image(_image(tmp_path / "b.png"), levels=[0, 50])
    _one_sentence(error)
    entry = {**item.to_dict(), "better": "lower"}
    (tmp_path / "better.json").write_text(json.dumps({"format": FORMAT, "version": 1, "name": "x", "items": [entry]}))
    with pytest.raises(JndViewerError, match="better") as error:
        load_study_set(tmp_path / "better.json")
    _one_sentence(error)
    with pytest.raises(JndViewerError) as error:
        study_set_from_image(_image(tmp_path / "c.png"), codec="no-such-codec")
    _one_sentence(error)


# --- building sets ---------------------------------------------------------------------------------------------------


def test_from_image(tmp_path: Path) -> None:
    path = _image(tmp_path / "photo.png")
    study_set = study_set_from_image(path)
    (item,) = study_set.items
    assert study_set.name == "photo" and item.item_id == "photo" and item.source == "photo"
    assert item.levels == tuple(range(1, 101)) and item.codec == "jpeg" and item.crop is None
    cropped = study_set_from_image(path, levels=[90, 10, 50], crop=(8, 4, 40, 30), name="crop")
    assert cropped.name == "crop" and cropped.items[0].levels == (10, 50, 90)
    assert reference_rgb(cropped.items[0]).shape == (30, 40, 3)


def test_from_image_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(JndViewerError, match=r"missing\.png") as error:
        study_set_from_image(tmp_path / "missing.png")
    _one_sentence(error)
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(JndViewerError, match=r"corrupt\.png") as error:
        study_set_from_image(tmp_path / "corrupt.png")
    _one_sentence(error)
    with pytest.raises(JndViewerError, match="inside its 64x48") as error:
        study_set_from_image(_image(tmp_path / "small.png"), crop=(40, 0, 32, 24))
    _one_sentence(error)


def test_from_folder_sorted_cropped_and_limited(tmp_path: Path) -> None:
    for index, name in enumerate(("c.png", "a.png", "b.jpg")):
        _image(tmp_path / name, 80, 60, seed=index)
    (tmp_path / "notes.txt").write_text("not an image")
    study_set = study_set_from_folder(tmp_path, crop_size=(32, 20))
    assert [item.item_id for item in study_set.items] == ["a", "b", "c"]
    assert study_set.name == tmp_path.name
    assert all(item.crop == (24, 20, 32, 20) for item in study_set.items)
    assert reference_rgb(study_set.items[0]).shape == (20, 32, 3)
    assert [item.item_id for item in study_set_from_folder(tmp_path, limit=2, levels=[20, 80]).items] == ["a", "b"]
    _image(tmp_path / "a.jpg", 80, 60)  # two files with one stem keep distinct ids
    assert [item.item_id for item in study_set_from_folder(tmp_path).items] == ["a.jpg", "a.png", "b", "c"]


def test_from_folder_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(JndViewerError, match="no images") as error:
        study_set_from_folder(tmp_path)
    _one_sentence(error)
    with pytest.raises(JndViewerError) as error:
        study_set_from_folder(tmp_path / "absent")
    _one_sentence(error)
    _image(tmp_path / "a.png", 40, 30)
    with pytest.raises(JndViewerError, match="too small") as error:
        study_set_from_folder(tmp_path, crop_size=(64, 64))
    _one_sentence(error)


# --- item images -----------------------------------------------------------------------------------------------------


def test_item_images_decode_jpeg_levels() -> None:
    item = default_study_set().item("kodim04-face")
    images = ItemImages(item)
    assert images.reference.shape == (240, 320, 3) and not images.reference.flags.writeable
    worst, best = _psnr(images.reference, images.decoded(5)), _psnr(images.reference, images.decoded(95))
    assert worst < 32.0 < 38.0 < best, (worst, best)
    assert images.decoded(5) is images.decoded(5)  # cached
    assert images.decoded_position(0) is images.decoded(100) and images.decoded_position(99) is images.decoded(1)
    assert images.cached_levels() == (1, 5, 95, 100)
    with pytest.raises(JndViewerError) as error:
        images.decoded(101)
    _one_sentence(error)
    with pytest.raises(JndViewerError) as error:
        images.decoded_position(100)
    _one_sentence(error)


def test_item_images_cropped_and_threaded(tmp_path: Path) -> None:
    path = _image(tmp_path / "a.png", 96, 64)
    item = StudyItem("a", str(path), "jpeg", (10, 30, 60, 90), crop=(16, 8, 48, 40))
    images = ItemImages(item)
    assert images.reference.shape == (40, 48, 3)
    results: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: results.append(images.decoded(30))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6 and all(result is results[0] for result in results)
    assert results[0].shape == (40, 48, 3) and results[0].dtype == np.uint8


def test_item_images_of_a_folder_ladder_are_cropped(tmp_path: Path) -> None:
    source = _image(tmp_path / "src.png", 64, 48)
    ladder = tmp_path / "ladder"
    ladder.mkdir()
    rgb = np.asarray(Image.open(source))
    for quality in (20, 80):
        Image.fromarray(rgb).save(ladder / f"src_{quality:03d}.jpg", quality=quality)
    codec = f"folder:{ladder}"
    item = StudyItem("src", str(source), codec, (20, 80), crop=(8, 8, 32, 24))
    images = ItemImages(item)
    expected = np.asarray(Image.open(ladder / "src_020.jpg").convert("RGB"))[8:32, 8:40]
    np.testing.assert_array_equal(images.decoded(20), expected)
    save_study_set(StudySet("folder", (item,)), tmp_path / "set.json")
    assert json.loads((tmp_path / "set.json").read_text())["items"][0]["codec"] == "folder:ladder"
    assert load_study_set(tmp_path / "set.json").items[0].codec == codec
