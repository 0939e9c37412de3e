"""The JND-based adaptation experiment (benchmarks/adaptation.py): its restorer, batches, resume and pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from benchmarks import adaptation
from benchmarks.adaptation_restorer import (
    Restorer,
    TrainingPair,
    TrainingPlan,
    batch_at,
    load_restorer,
    restore,
    to_rgb,
    to_tensor,
    train,
)


def _photo(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 1.1 + 30, y * 1.4 + 20, 180 - x * 0.4], axis=-1)
    base[height // 4:3 * height // 4, width // 4:3 * width // 4] += rng.normal(0, 25, (height // 2, width // 2, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def test_the_restorer_starts_as_bicubic_upsampling() -> None:
    low = _photo(24, 32, 0)
    bicubic = to_rgb(F.interpolate(to_tensor(low), scale_factor=2, mode="bicubic", align_corners=False))
    np.testing.assert_array_equal(restore(Restorer(), low), bicubic)


def test_batches_are_aligned_seeded_and_independent_of_history() -> None:
    pristine = _photo(96, 128, 1)
    pair = TrainingPair.make(pristine, pristine)
    nearest = np.repeat(np.repeat(pair.low, 2, axis=0), 2, axis=1)  # each target pixel knows its input pixel
    pairs = [TrainingPair(pair.low, nearest)]
    plan = TrainingPlan(steps=1, learning_rate=1e-3, batch=6, patch=16, seed=3)
    low, target = batch_at(pairs, plan, 7)
    assert low.shape == (6, 3, 16, 16) and target.shape == (6, 3, 32, 32)
    torch.testing.assert_close(target[:, :, ::2, ::2], low)  # flips and transposes keep the pairs aligned
    again, _ = batch_at(pairs, plan, 7)
    other, _ = batch_at(pairs, plan, 8)
    assert torch.equal(low, again) and not torch.equal(low, other)
    with pytest.raises(ValueError, match="differ in size"):
        TrainingPair.make(pristine, pristine[:-2])


def test_training_lowers_the_loss_and_a_resumed_run_equals_an_unbroken_one(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    pristine = _photo(64, 64, 2)
    shifted = np.clip(pristine * 0.7 + 60, 0, 255).astype(np.uint8)  # a target the network can learn in 40 steps
    pairs = [TrainingPair.make(pristine, shifted)]
    plan = TrainingPlan(steps=40, learning_rate=3e-3, batch=4, patch=16, checkpoint_every=10)
    model = train(pairs, plan, tmp_path / "whole.pt", log=lambda _: None)
    losses = torch.load(tmp_path / "whole.pt", weights_only=True)["losses"]
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    half = TrainingPlan(steps=20, learning_rate=3e-3, batch=4, patch=16, checkpoint_every=10)
    train(pairs, half, tmp_path / "broken.pt", log=lambda _: None)  # stopped after 20 steps
    messages: list[str] = []
    resumed = train(pairs, plan, tmp_path / "broken.pt", log=messages.append)
    assert any("resuming at step 20" in m for m in messages)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception):  # noqa: B017 - torch's own unpickling error, weights_only
        load_restorer(tmp_path / "bad.pt")


def _image_root(root: Path) -> Path:
    for folder, count, size in (("bsds500/val", 2, (72, 96)), ("mcmaster", 1, (72, 96)), ("kodak", 1, (192, 256))):
        (root / folder).mkdir(parents=True)
        for index in range(count):
            Image.fromarray(_photo(*size, seed=index + len(folder))).save(root / folder / f"im{index}.png")
    return root


def test_the_pipeline_runs_end_to_end_and_resumes_without_recomputing(tmp_path: Path, capsys) -> None:
    from jndviewer.core.codecs import create_codec

    root = _image_root(tmp_path / "images")
    run = tmp_path / "run"
    args = ["--run", str(run), "--images", str(root), "--pretrain-steps", "6", "--finetune-steps", "4",
            "--train-images", "3", "--eval-images", "1", "--seeds", "2", "--no-perceptual", "--threads", "1"]
    assert adaptation.main(args) == 0
    table = capsys.readouterr().out
    assert "| fine-tuned toward JND images |" in table and "trained on 3 " in table
    targets = sorted((run / "jnd_targets").rglob("*.png"))
    assert len(targets) == 3
    codec = create_codec("autoencoder")
    sidecar = json.loads(targets[0].with_name(targets[0].name + ".json").read_text())
    source = np.asarray(Image.open(sidecar["source"]).convert("RGB"))
    level = sidecar["pwjnd"]["level"]
    assert sidecar["pwjnd"]["condition"] == {"ppd": 38.0, "task": "side-by-side"}
    np.testing.assert_array_equal(np.asarray(Image.open(targets[0])), codec.encode(source, level).decoded)
    results = json.loads((run / "results.json").read_text())
    summary, per_image = results["summary"], results["per_image"]
    assert set(summary) == set(adaptation.ARMS)
    assert set(per_image) == {"bicubic", "start", "pristine", "jnd", "pristine_s2", "jnd_s2"}
    assert all(20 < r["psnr"] < 60 and 0 < r["msssim"] <= 1 for r in summary.values())
    assert per_image["jnd"] != per_image["pristine"] and per_image["jnd"] != per_image["jnd_s2"]  # targets; seeds
    # the summary is the seed average, the paired difference its per-image form
    for metric in ("psnr", "msssim"):
        mean = np.mean([np.mean(per_image[n][metric]) for n in ("jnd", "jnd_s2")])
        assert summary["jnd"][metric] == pytest.approx(mean)
        assert results["paired"][metric]["mean"] == pytest.approx(mean - summary["pristine"][metric])
    assert "Wilcoxon" in table and "JND arm better on" in table
    stamps = {p: p.stat().st_mtime_ns for p in [*targets, run / "jnd.pt", run / "jnd_s2.pt"]}
    assert adaptation.main(args) == 0  # everything finished: nothing is recomputed
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
