"""Tests of jndviewer.core.codecs.folder: every fixture is written into tmp_path with Pillow."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage
from PIL import ImageFilter

from jndviewer.core.codecs.base import CodecError, Encoded
from jndviewer.core.codecs.folder import (
    AmbiguousSchemeError,
    FolderCodec,
    FolderScan,
    looks_like_folder_ladder,
    scan_folder,
)

HEIGHT, WIDTH = 48, 64
QUALITIES = (5, 10, 30, 50, 75, 95)
BPG_LEVELS = (20, 27, 34, 41)
KONJND_BASE = "1024567"

# --------------------------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------------------------


def make_source(seed: int = 0) -> np.ndarray:
    """A 48 x 64 RGB gradient with noise (so that JPEG sizes grow with the quality factor)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    base = np.stack([x * 255 / (WIDTH - 1), y * 255 / (HEIGHT - 1), (x + y) * 255 / (WIDTH + HEIGHT - 2)], axis=-1)
    noisy = base + rng.normal(0.0, 20.0, base.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def source_rgb() -> np.ndarray:
    return make_source()


def save_png(rgb: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    PilImage.fromarray(rgb, "RGB").save(path, format="PNG")
    return path


def save_bmp(rgb: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    PilImage.fromarray(rgb, "RGB").save(path, format="BMP")
    return path


def save_jpegs(rgb: np.ndarray, folder: Path, pattern: str, qualities: tuple[int, ...] = QUALITIES) -> dict[int, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for quality in qualities:
        path = folder / pattern.format(quality)
        PilImage.fromarray(rgb, "RGB").save(path, format="JPEG", quality=quality)
        paths[quality] = path
    return paths


def save_bpg_standins(
    rgb: np.ndarray, folder: Path, base: str, levels: tuple[int, ...] = BPG_LEVELS
) -> dict[int, Path]:
    """KonJND-style BPG files stored decoded as PNG: the source blurred more for higher (worse) levels."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    picture = PilImage.fromarray(rgb, "RGB")
    for index, level in enumerate(levels):
        path = folder / f"{base}_BPG_{level:03d}.png"
        picture.filter(ImageFilter.GaussianBlur(0.5 + index)).save(path, format="PNG")
        paths[level] = path
    return paths


def pillow_rgb(path: Path) -> np.ndarray:
    with PilImage.open(path) as picture:
        return np.asarray(picture.convert("RGB"))


def make_generic(root: Path, rgb: np.ndarray, name: str = "parrots") -> tuple[Path, dict[int, Path]]:
    folder = root / f"{name}_jpeg"
    paths = save_jpegs(rgb, folder, name + "_{:03d}.jpg")
    save_png(rgb, folder / f"{name}.png")
    return folder, paths


def make_mcl(root: Path, rgb: np.ndarray) -> tuple[Path, dict[int, Path], Path]:
    folder = root / "ImageJND_SRC07"
    paths = save_jpegs(rgb, folder, "ImageJND_SRC07_{:03d}.jpg")
    source = save_bmp(rgb, root / "ImageJND_SRC07.bmp")
    return folder, paths, source


def make_konjnd(root: Path, rgb: np.ndarray) -> tuple[Path, Path, dict[int, Path], dict[int, Path], Path]:
    source = save_png(rgb, root / "source_image" / f"{KONJND_BASE}.png")
    jpeg = save_jpegs(rgb, root / "jpeg", KONJND_BASE + "_JPEG_{:03d}.jpg")
    bpg = save_bpg_standins(rgb, root / "bpg", KONJND_BASE)
    return root / "jpeg", root / "bpg", jpeg, bpg, source


def assert_one_sentence(message: str, *names: str) -> None:
    """A message is one sentence: no line break, ends with a full stop, no '. X' inside; it names the folder/file."""
    assert "\n" not in message
    assert message.endswith("."), message
    assert not message.endswith(".."), message
    assert re.search(r"[.!?]\s+[A-Z]", message[:-1]) is None, message
    assert any(name in message for name in names), (message, names)


def assert_encodes_files(codec: FolderCodec, rgb: np.ndarray, paths: dict[int, Path]) -> None:
    for level, path in paths.items():
        encoded = codec.encode(rgb, level)
        assert isinstance(encoded, Encoded)
        assert encoded.level == level
        assert encoded.data == path.read_bytes()
        assert encoded.nbytes == path.stat().st_size
        assert encoded.decoded.dtype == np.uint8
        assert encoded.decoded.shape == (HEIGHT, WIDTH, 3)
        np.testing.assert_array_equal(encoded.decoded, pillow_rgb(path))


# --------------------------------------------------------------------------------------------------------------------
# Generic NAME_QQQ.ext
# --------------------------------------------------------------------------------------------------------------------


def test_generic_ladder(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, paths = make_generic(tmp_path, source_rgb)
    sizes = [paths[quality].stat().st_size for quality in QUALITIES]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes), "fixture: JPEG size must grow with the QF"

    codec = FolderCodec(folder)
    assert codec.name == "folder"
    assert codec.scheme == "generic"
    assert codec.title == "Folder: parrots_jpeg (parrots)"
    assert codec.suffix == ".jpg"
    assert codec.levels() == QUALITIES
    assert codec.better == "higher"
    assert codec.best_level() == 95 and codec.worst_level() == 5
    assert codec.level_name in ("quality", "level")
    assert codec.size_monotone is False
    assert codec.size_note is None
    assert codec.source_path == folder / "parrots.png"
    assert dict(codec.files) == paths
    np.testing.assert_array_equal(codec.load_source(), source_rgb)
    assert_encodes_files(codec, source_rgb, paths)


def test_generic_better_lower(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, _ = make_generic(tmp_path, source_rgb)
    codec = FolderCodec(folder, better="lower")
    assert codec.better == "lower"
    assert codec.best_level() == 5
    assert codec.ordered_worst_to_best() == tuple(reversed(QUALITIES))
    assert "lower is better" in codec.describe()


def test_generic_png_ladder_has_size_note(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "ladder"
    for level in (1, 2, 3):
        save_png(source_rgb, folder / f"img_{level}.png")
    codec = FolderCodec(folder)
    assert codec.levels() == (1, 2, 3)
    assert codec.size_note is not None and "stand-in" in codec.size_note
    assert codec.size_note in codec.describe()


def test_generic_name_with_underscores_and_digits(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "x"
    save_jpegs(source_rgb, folder, "kodim_23_{:d}.jpg", (10, 90))
    scan = scan_folder(folder)
    assert scan.base == "kodim_23"
    assert scan.levels == (10, 90)


@pytest.mark.parametrize("stem", ["parrots", "parrots_source", "parrots_ref", "parrots_original"])
def test_generic_source_next_to_files(tmp_path: Path, source_rgb: np.ndarray, stem: str) -> None:
    folder = tmp_path / "ladder"
    save_jpegs(source_rgb, folder, "parrots_{:03d}.jpg", (10, 50))
    expected = save_png(source_rgb, folder / f"{stem}.png")
    codec = FolderCodec(folder)
    assert codec.source_path == expected
    assert expected.name in codec.describe()
    assert expected not in codec.files.values()


@pytest.mark.parametrize("where", [".", "reference", "source"])
def test_generic_source_in_parent_or_sibling(tmp_path: Path, source_rgb: np.ndarray, where: str) -> None:
    folder = tmp_path / "ladder"
    save_jpegs(source_rgb, folder, "parrots_{:03d}.jpg", (10, 50))
    expected = save_png(source_rgb, tmp_path / where / "parrots.png")
    assert FolderCodec(folder).source_path == expected


def test_source_not_found(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "ladder"
    save_jpegs(source_rgb, folder, "parrots_{:03d}.jpg", (10, 50))
    save_png(source_rgb, folder / "other.png")  # not the source: a different stem
    codec = FolderCodec(folder)
    assert codec.source_path is None
    assert "no source image in the folder" in codec.describe()
    with pytest.raises(CodecError) as info:
        codec.load_source()
    assert_one_sentence(str(info.value), str(folder))
    assert codec.scan.others == (folder / "other.png",)


def test_explicit_source_overrides(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, _ = make_generic(tmp_path, source_rgb)
    other = save_png(make_source(seed=1), tmp_path / "elsewhere" / "mine.png")
    codec = FolderCodec(folder, source=other)
    assert codec.source_path == other
    np.testing.assert_array_equal(codec.load_source(), make_source(seed=1))
    assert FolderCodec(folder, str(other)).source_path == other


def test_files_are_read_on_demand_each_time(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, paths = make_generic(tmp_path, source_rgb)
    codec = FolderCodec(folder)
    first = codec.encode(source_rgb, 50)
    PilImage.fromarray(make_source(seed=3), "RGB").save(paths[50], format="JPEG", quality=50)
    second = codec.encode(source_rgb, 50)
    assert second.data == paths[50].read_bytes() != first.data


# --------------------------------------------------------------------------------------------------------------------
# MCL-JCI
# --------------------------------------------------------------------------------------------------------------------


def test_mcl_jci_ladder(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, paths, source = make_mcl(tmp_path, source_rgb)
    codec = FolderCodec(folder)
    assert codec.scheme == "mcl-jci"
    assert codec.title == "Folder: ImageJND_SRC07"
    assert codec.levels() == QUALITIES
    assert codec.better == "higher"
    assert codec.level_name == "quality"
    assert codec.size_note is None
    assert codec.source_path == source
    np.testing.assert_array_equal(codec.load_source(), source_rgb)
    assert_encodes_files(codec, source_rgb, paths)
    description = codec.describe()
    for part in ("MCL-JCI", "6 files", "5..95", "higher is better", "ImageJND_SRC07.bmp"):
        assert part in description


@pytest.mark.parametrize("where", ["ImageJND_SRC07", "source", "reference"])
def test_mcl_jci_source_locations(tmp_path: Path, source_rgb: np.ndarray, where: str) -> None:
    folder = tmp_path / "ImageJND_SRC07"
    save_jpegs(source_rgb, folder, "ImageJND_SRC07_{:03d}.jpg", (1, 100))
    expected = save_png(source_rgb, tmp_path / where / "ImageJND_SRC07.png")
    codec = FolderCodec(folder)
    assert codec.levels() == (1, 100)
    assert codec.source_path == expected


# --------------------------------------------------------------------------------------------------------------------
# KonJND-1k
# --------------------------------------------------------------------------------------------------------------------


def test_konjnd_jpeg(tmp_path: Path, source_rgb: np.ndarray) -> None:
    jpeg_folder, _, jpeg, _, source = make_konjnd(tmp_path, source_rgb)
    codec = FolderCodec(jpeg_folder)
    assert codec.scheme == "konjnd-jpeg"
    assert codec.levels() == QUALITIES
    assert codec.better == "higher"
    assert codec.level_name == "quality"
    assert codec.suffix == ".jpg"
    assert codec.size_note is None
    assert codec.source_path == source
    assert_encodes_files(codec, source_rgb, jpeg)


def test_konjnd_bpg(tmp_path: Path, source_rgb: np.ndarray) -> None:
    _, bpg_folder, _, bpg, source = make_konjnd(tmp_path, source_rgb)
    codec = FolderCodec(bpg_folder)
    assert codec.scheme == "konjnd-bpg"
    assert codec.levels() == BPG_LEVELS
    assert codec.better == "lower"
    assert codec.best_level() == BPG_LEVELS[0]
    assert codec.ordered_worst_to_best() == tuple(reversed(BPG_LEVELS))
    assert codec.suffix == ".png"
    assert codec.source_path == source
    assert codec.size_note is not None and "PNG" in codec.size_note and "stand-in" in codec.size_note
    description = codec.describe()
    assert codec.size_note in description
    assert "lower is better" in description and "KonJND-1k BPG" in description
    assert_encodes_files(codec, source_rgb, bpg)
    # The stand-ins are the source blurred more for higher levels.
    errors = [np.abs(codec.encode(source_rgb, level).decoded.astype(int) - source_rgb).mean() for level in BPG_LEVELS]
    assert errors == sorted(errors)


def test_konjnd_source_next_to_files(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "flat"
    save_jpegs(source_rgb, folder, KONJND_BASE + "_JPEG_{:03d}.jpg", (20, 60))
    expected = save_png(source_rgb, folder / f"{KONJND_BASE}.png")
    assert FolderCodec(folder).source_path == expected


def test_konjnd_mixed_needs_scheme(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "mixed"
    jpeg = save_jpegs(source_rgb, folder, KONJND_BASE + "_JPEG_{:03d}.jpg")
    bpg = save_bpg_standins(source_rgb, folder, KONJND_BASE)
    with pytest.raises(AmbiguousSchemeError) as info:
        FolderCodec(folder)
    assert isinstance(info.value, CodecError)
    assert info.value.choices == ("jpeg", "bpg")
    assert "scheme=" in str(info.value)
    assert_one_sentence(str(info.value), str(folder))
    assert looks_like_folder_ladder(folder)

    as_jpeg = FolderCodec(folder, scheme="jpeg")
    assert as_jpeg.levels() == QUALITIES and as_jpeg.better == "higher"
    assert dict(as_jpeg.files) == jpeg
    as_bpg = FolderCodec(folder, scheme="bpg")
    assert as_bpg.levels() == BPG_LEVELS and as_bpg.better == "lower"
    assert dict(as_bpg.files) == bpg
    assert FolderCodec(folder, scheme="konjnd-bpg").levels() == BPG_LEVELS


# --------------------------------------------------------------------------------------------------------------------
# Scanning helpers
# --------------------------------------------------------------------------------------------------------------------


def test_scan_folder(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, paths, source = make_mcl(tmp_path, source_rgb)
    scan = scan_folder(folder)
    assert isinstance(scan, FolderScan)
    assert scan.scheme == "mcl-jci"
    assert scan.base == "ImageJND_SRC07"
    assert dict(scan.files) == paths
    assert scan.levels == QUALITIES
    assert scan.better == "higher"
    assert scan.source == source
    assert scan_folder(folder, better="lower").better == "lower"


def test_looks_like_folder_ladder(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, paths = make_generic(tmp_path, source_rgb)
    assert looks_like_folder_ladder(folder)
    assert looks_like_folder_ladder(str(folder))
    assert not looks_like_folder_ladder(tmp_path / "missing")
    assert not looks_like_folder_ladder(paths[5])
    (tmp_path / "empty").mkdir()
    assert not looks_like_folder_ladder(tmp_path / "empty")
    assert not looks_like_folder_ladder(tmp_path)  # only subfolders


def test_ignores_hidden_and_non_image_files(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, _ = make_generic(tmp_path, source_rgb)
    (folder / ".parrots_007.jpg").write_bytes(b"hidden")
    (folder / "parrots_007.txt").write_text("notes")
    (folder / "scores.csv").write_text("qf,jnd\n")
    assert FolderCodec(folder).levels() == QUALITIES


# --------------------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------------------


def error_of(*args: object, **kwargs: object) -> str:
    with pytest.raises(CodecError) as info:
        FolderCodec(*args, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_error_missing_folder(tmp_path: Path) -> None:
    message = error_of(tmp_path / "nope")
    assert "does not exist" in message
    assert_one_sentence(message, "nope")


def test_error_not_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "file_010.jpg"
    path.write_bytes(b"x")
    message = error_of(path)
    assert "not a folder" in message
    assert_one_sentence(message, str(path))


def test_error_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    message = error_of(tmp_path / "empty")
    assert "empty" in message
    assert_one_sentence(message, "empty")


def test_error_no_image_files(tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello")
    assert_one_sentence(error_of(folder), str(folder))


def test_error_no_matching_names(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "photos"
    save_png(source_rgb, folder / "photo.png")
    save_png(source_rgb, folder / "photo-low.png")
    message = error_of(folder)
    assert "named like a ladder level" in message
    assert_one_sentence(message, str(folder))


def test_error_mixed_names(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "mixed"
    save_jpegs(source_rgb, folder, "a_{:03d}.jpg", (5,))
    save_jpegs(source_rgb, folder, "b_{:03d}.jpg", (10,))
    message = error_of(folder)
    assert "a_005.jpg" in message and "b_010.jpg" in message
    assert_one_sentence(message, str(folder))


def test_error_mixed_extensions(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "mixed"
    save_jpegs(source_rgb, folder, "a_{:03d}.jpg", (5,))
    save_png(source_rgb, folder / "a_100.png")
    message = error_of(folder)
    assert "a_005.jpg" in message and "a_100.png" in message
    assert_one_sentence(message, str(folder))


def test_error_mixed_schemes(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "mixed"
    save_jpegs(source_rgb, folder, "ImageJND_SRC01_{:03d}.jpg", (5,))
    save_jpegs(source_rgb, folder, "parrots_{:03d}.jpg", (10,))
    assert_one_sentence(error_of(folder), str(folder))


def test_error_duplicate_levels(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "dup"
    save_jpegs(source_rgb, folder, "a_{:d}.jpg", (5,))
    save_jpegs(source_rgb, folder, "a_{:03d}.jpg", (5, 10))
    message = error_of(folder)
    assert "a_5.jpg" in message and "a_005.jpg" in message and "level 5" in message
    assert_one_sentence(message, str(folder))


def test_error_bad_arguments(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, _ = make_generic(tmp_path, source_rgb)
    assert_one_sentence(error_of(folder, better="best"), "better")
    assert_one_sentence(error_of(folder, scheme="webp"), "webp")
    assert_one_sentence(error_of(folder, source=tmp_path / "gone.png"), "gone.png")
    assert_one_sentence(error_of(folder, scheme="bpg"), str(folder))


def test_error_level_not_in_folder(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, _ = make_generic(tmp_path, source_rgb)
    codec = FolderCodec(folder)
    with pytest.raises(CodecError) as info:
        codec.encode(source_rgb, 7)
    assert "7" in str(info.value)
    assert_one_sentence(str(info.value), str(folder))


def test_error_wrong_size_rgb(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, _ = make_generic(tmp_path, source_rgb)
    codec = FolderCodec(folder)
    with pytest.raises(CodecError) as info:
        codec.encode(source_rgb[:, :32], 50)
    assert "64x48" in str(info.value) and "32x48" in str(info.value)
    assert_one_sentence(str(info.value), "parrots_050.jpg")


def test_error_corrupt_file_at_encode_not_construction(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, _ = make_generic(tmp_path, source_rgb)
    (folder / "parrots_060.jpg").write_bytes(b"this is not a JPEG file at all, only garbage bytes")
    codec = FolderCodec(folder)  # construction only reads names
    assert 60 in codec.levels()
    assert codec.encode(source_rgb, 50).level == 50
    with pytest.raises(CodecError) as info:
        codec.encode(source_rgb, 60)
    assert_one_sentence(str(info.value), "parrots_060.jpg")


def test_error_file_removed_after_construction(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder, paths = make_generic(tmp_path, source_rgb)
    codec = FolderCodec(folder)
    paths[30].unlink()
    with pytest.raises(CodecError) as info:
        codec.encode(source_rgb, 30)
    assert_one_sentence(str(info.value), "parrots_030.jpg")


def save_bpg_as_jpeg(rgb: np.ndarray, folder: Path, base: str, levels: tuple[int, ...] = BPG_LEVELS) -> dict[int, Path]:
    """KonJND-1k's public sample form: BPG levels stored decoded as JPEG (quality 100, 4:4:4), numbered so that
    higher is better (the source blurred less for higher levels)."""
    folder.mkdir(parents=True, exist_ok=True)
    picture, paths = PilImage.fromarray(rgb, "RGB"), {}
    for index, level in enumerate(levels):
        path = folder / f"{base}_BPG_{level:03d}.jpg"
        blur = ImageFilter.GaussianBlur(0.5 + len(levels) - 1 - index)
        picture.filter(blur).save(path, format="JPEG", quality=100, subsampling=0)
        paths[level] = path
    return paths


def test_konjnd_bpg_stored_as_jpeg_files(tmp_path: Path, source_rgb: np.ndarray) -> None:
    source = save_png(source_rgb, tmp_path / "source_image" / f"{KONJND_BASE}.png")
    files = save_bpg_as_jpeg(source_rgb, tmp_path / "bpg", KONJND_BASE)
    codec = FolderCodec(tmp_path / "bpg")
    assert (codec.scheme, codec.better, codec.family, codec.source_path) == ("konjnd-bpg", "higher", "heif", source)
    assert codec.best_level() == BPG_LEVELS[-1]
    assert codec.size_note is not None and "JPEG (quality 100)" in codec.size_note
    assert FolderCodec(tmp_path / "bpg", scheme="bpg").levels() == BPG_LEVELS  # scheme=bpg no longer refuses them
    description = codec.describe()
    assert "higher is better" in description and "calibrated as heif (detected)" in description
    assert_encodes_files(codec, source_rgb, files)
    errors = [np.abs(codec.encode(source_rgb, level).decoded.astype(int) - source_rgb).mean() for level in BPG_LEVELS]
    assert errors == sorted(errors, reverse=True)  # better towards the higher levels


def test_folder_spec_options_and_family(tmp_path: Path, source_rgb: np.ndarray) -> None:
    from jndviewer.core.codecs import create_codec, parse_folder_spec

    folder, _ = make_generic(tmp_path, source_rgb)
    elsewhere = save_png(source_rgb, tmp_path / "elsewhere" / "original picture.png")
    assert parse_folder_spec(f"folder:{folder},better=low,family=heif") == (folder, {"better": "low",
                                                                                    "family": "heif"})
    codec = create_codec(f"folder:{folder},better=low,source={elsewhere},family=webp")
    assert (codec.better, codec.source_path, codec.family) == ("lower", elsewhere, "webp")
    assert "calibrated as webp (given)" in codec.describe()
    assert create_codec(f"folder:{folder}").family == "jpeg"  # .jpg files: detected
    comma = tmp_path / "a,b"
    save_jpegs(source_rgb, comma, "x_{:03d}.jpg")
    assert create_codec(f"folder:{comma},better=high").folder == comma  # a comma that is not an option stays
    png_folder = tmp_path / "png_ladder"
    for quality, path in save_jpegs(source_rgb, png_folder, "p_{:03d}.jpg").items():
        pillow = PilImage.open(path)
        pillow.save(png_folder / f"p_{quality:03d}.png")
        path.unlink()
    unknown = create_codec(f"folder:{png_folder}")
    assert unknown.family == "jpeg" and "not detected: JPEG's" in unknown.describe()
    assert unknown.caveats() == [  # said beside every prediction over it (predict, export, the explorer)
        "The files in png_ladder do not tell which codec made them, so they are judged with JPEG's calibration; if "
        "another codec made them, name its family: folder:PATH,family=jpeg|webp|avif|heif."]
    assert create_codec(f"folder:{png_folder},family=jpeg").caveats() == []
    assert create_codec(f"folder:{folder}").caveats() == []  # detected from its files
    with pytest.raises(CodecError, match=r"^family must be one of jpeg, webp, avif, heif, not 'bpg'\.$"):
        create_codec(f"folder:{folder},family=bpg")
    with pytest.raises(CodecError, match=r"given twice"):
        create_codec(f"folder:{folder},better=high,better=low")


def test_a_family_given_against_the_files_is_said(tmp_path: Path, source_rgb: np.ndarray) -> None:
    folder = tmp_path / "ladder"
    save_jpegs(source_rgb, folder, "parrots_{:03d}.jpg", (10, 50))
    assert FolderCodec(folder).caveats() == [] and FolderCodec(folder, family="jpeg").caveats() == []
    codec = FolderCodec(folder, family="webp")
    assert codec.family == "webp" and codec.caveats() == [
        "The files in ladder look like jpeg files, but family=webp was given: their levels are judged with webp's "
        "calibration."]


def test_jpeg_of_other_subsampling_says_its_fits_are_4_2_0s() -> None:
    from jndviewer.core.codecs import create_codec

    assert create_codec("jpeg").caveats() == []
    (sentence,) = create_codec("jpeg444").caveats()
    assert sentence.endswith("JPEG 4:4:4 levels are judged with those fits, untested.")
    assert create_codec("jpeg422").caveats()[0].startswith("The predictors were calibrated and trained on JPEG 4:2:0")
