"""The weights shipped in jndviewer/assets/models/ load and reproduce the figures recorded with them (MODEL_CARD.md)."""

from __future__ import annotations

import json

import pytest

from jndviewer.core.assets import model_file, sample_image
from jndviewer.core.codecs.learned import DEFAULT_WEIGHTS as CODEC_WEIGHTS
from jndviewer.core.codecs.learned import LearnedCodec
from jndviewer.core.image import load
from jndviewer.core.metrics import psnr

SAMPLE = sample_image()


def test_the_learned_codec_is_shipped_with_its_card() -> None:
    assert CODEC_WEIGHTS.exists(), "the packaged learned_codec.pt is missing"
    assert CODEC_WEIGHTS.stat().st_size <= 30 * 2**20
    card = (model_file("MODEL_CARD.md")).read_text()
    assert "learned_codec.pt" in card


@pytest.mark.parametrize("level", [1, 4, 8])
def test_shipped_codec_reproduces_the_recorded_sample_figures(level: int) -> None:
    recorded = json.loads((model_file("learned_codec.rd.json")).read_text())["sample_image"][str(level)]
    rgb = load(SAMPLE).rgb8()
    encoded = LearnedCodec(CODEC_WEIGHTS).encode(rgb, level)
    assert encoded.nbytes == pytest.approx(recorded["nbytes"], rel=0.02)
    assert psnr(rgb, encoded.decoded) == pytest.approx(recorded["psnr"], abs=0.3)


def test_shipped_codec_rates_and_quality_rise_with_the_rate_point() -> None:
    recorded = json.loads((model_file("learned_codec.rd.json")).read_text())["sample_image"]
    sizes = [recorded[str(level)]["nbytes"] for level in range(1, 9)]
    quality = [recorded[str(level)]["psnr"] for level in range(1, 9)]
    assert sizes == sorted(sizes) and quality == sorted(quality)
