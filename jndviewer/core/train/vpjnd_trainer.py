"""Train VP-JNDnet (``jndviewer train vpjnd --data KIND:PATH ...``).

**Cache.** Per source image (``CACHE/<digest>.pt``, one file each, so a stopped build resumes): the pixels of
``cache_patches`` patches of the reference (chosen evenly from the covering grid), the threshold maps of *every*
pixel JND model at those patches (so the ablation runs share one cache), and per codec the same patches of every
level worth caching for any of that image's labels (every second level within ``window`` of each label and a few
far ones, :func:`jndviewer.core.train.samples.cached_levels`). The levels are encoded from the whole image, as the
predictor sees them.

**Steps.** A step draws ``groups`` (source, codec) pairs of the training split, ``levels`` cached levels of each and a
random subset of 1 to all cached patches (patch dropout, as SG-JND's trainer found best). The reference and JND
streams run once per group, the distorted stream once per level. One forward serves every label of the pair
(side by side and flicker, 38 and 75 ppd): the labels differ only in the learned offsets added to the pooled logit.
Loss: sigmoid cross-entropy on visible (lossy) / not visible (lossless) per level and label, as the released model.
With ``augment="dihedral"`` each group of a step is seen under one of the eight turns and mirrors of the square (the
same for its reference, JND-map and distorted patches, drawn from a generator of its own); validation and the
calibration see the patches as cached.

**Validation.** Per label of the validation sources: the exhaustive PW-JND over the cached levels with all cached
patches, its mean absolute error in levels (overall and per viewing condition) and the per-level accuracy.
Resumable: the network, optimiser and step are saved every ``validate_every`` steps; the same command continues.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from jndviewer.core.datasets.sample import is_worse
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.patch_pooling import add_condition_offsets, calibration_key, pool_patch_logits
from jndviewer.core.pwjnd.sgjnd.network import codec_family, codec_family_name
from jndviewer.core.pwjnd.sgjnd.patches import crop_patches, patch_positions
from jndviewer.core.pwjnd.vpjnd.config import AUGMENTS, EXPORT_FORMAT, NO_JND_MAP, VPJNDConfig
from jndviewer.core.pwjnd.vpjnd.network import TRAINING_PPD, VPJNDNet, crop_map, jnd_threshold
from jndviewer.core.train.common import TrainingLog, load_checkpoint, save_checkpoint
from jndviewer.core.train.samples import (
    cached_levels,
    decoded_level,
    fit_condition_deltas,
    pwjnd_from_decisions,
    sample_condition,
    sample_reference,
)

#: How much faster the logit offsets learn than the rest (SG-JND's trainer explains why: the flicker labels sit
#: about 40 quality levels above the side-by-side ones, several logits away).
OFFSET_LR_FACTOR = 30.0


#: Patches per image of the caches and checkpoints written before the count was stored (the only count then).
EARLIER_CACHE_PATCHES = 4


@dataclass
class VPJNDTrainingConfig:
    data: list[str]
    run_dir: str = "runs/vpjnd"
    export: str = "runs/vpjnd/vpjnd.pt"
    #: Where the patch cache lives (default RUN/cache); runs of the ablation share one.
    cache_dir: str | None = None
    steps: int = 2400  # the shipped run (models/MODEL_CARD.md: validation still fell from 1,200 to 2,400)
    groups: int = 6  # (source, codec) pairs per step
    levels: int = 3  # cached levels per pair and step
    #: Patches per image in the cache, chosen evenly from the predictor's covering grid (up to 12 for a BSDS500
    #: image, 16 for a McMaster one); each step keeps a random subset of 1 to all of them.
    cache_patches: int = 4
    window: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    validation_share: float = 0.15
    validate_every: int = 250
    #: Training (source, codec) pairs the per-condition calibration is fitted on (:func:`fit_calibration`).
    calibration_groups: int = 200
    seed: int = 0
    #: "dihedral": each group of a step is seen under one of the eight turns/mirrors of the square (the same one for
    #: its reference, JND-map and distorted patches; the label does not change); "none": as cached. Checked on the
    #: shipped configuration and not adopted (models/MODEL_CARD.md).
    augment: str = "none"
    threads: int = 2
    device: str = "cpu"
    config: dict = field(default_factory=lambda: VPJNDConfig().to_dict())


def cache_file(cache: Path, source: str) -> Path:
    """Where the patch cache ``cache`` keeps ``source``'s entry."""
    return cache / (hashlib.sha256(source.encode()).hexdigest()[:20] + ".pt")


def _even_pick(count: int, keep: int) -> list[int]:
    return sorted({int(i) for i in np.linspace(0, count - 1, min(count, keep)).round()})


def build_patch_cache(samples: list[Any], config: VPJNDConfig, cache: Path, cache_patches: int, window: int,
                      log: TrainingLog | None = None) -> dict[str, dict]:
    """The cached patches of every source of ``samples`` (building what is missing); source -> entry (recorded in
    ``log`` when given)."""
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.jnd import MODELS

    by_source: dict[str, list[Any]] = defaultdict(list)
    for sample in samples:
        by_source[sample.source].append(sample)
    entries = {}
    for source, group in tqdm(sorted(by_source.items()), desc="vpjnd cache", mininterval=10):
        path = cache_file(cache, source)
        entry = load_checkpoint(path, "VP-JNDnet patch cache") if path.exists() else None
        if entry is not None and entry.get("patch") != config.patch:
            raise JndViewerError(f"The patch cache {cache} holds {entry.get('patch')}-pixel patches, not "
                                 f"{config.patch}; train with another --cache.")
        if entry is not None and (held := entry.get("cache_patches", EARLIER_CACHE_PATCHES)) != cache_patches:
            raise JndViewerError(f"The patch cache {cache} holds up to {held} patches per image, not "
                                 f"{cache_patches}; train with another --cache.")
        wanted: dict[str, set[int]] = defaultdict(set)
        for sample in group:
            wanted[sample.codec].update(cached_levels(sample, window))
        if entry is not None and all(codec in entry["codecs"]
                                     and wanted[codec] <= set(entry["codecs"][codec]["levels"].tolist())
                                     for codec in wanted):
            entries[source] = entry
            continue
        rgb = sample_reference(group[0])
        if entry is None:
            positions = patch_positions(*rgb.shape[:2], config)
            positions = [positions[i] for i in _even_pick(len(positions), cache_patches)]
            jnd = {name: crop_map(jnd_threshold(name, rgb), positions, config.patch).half() for name in MODELS}
            entry = {"source": source, "patch": config.patch, "cache_patches": cache_patches, "positions": positions,
                     "reference": _to_uint8(crop_patches(rgb, positions, config.patch)), "jnd": jnd, "codecs": {}}
        for codec_name, levels in wanted.items():
            sample = next(s for s in group if s.codec == codec_name)
            kept = entry["codecs"].get(codec_name)
            have = dict(zip(kept["levels"].tolist(), kept["distorted"], strict=True)) if kept else {}
            codec = create_codec(codec_name) if not sample.distorted else None
            for level in sorted(levels - set(have)):
                have[level] = _to_uint8(crop_patches(decoded_level(sample, level, rgb, codec), entry["positions"],
                                                     config.patch))
            ordered = sorted(have)
            entry["codecs"][codec_name] = {"levels": torch.tensor(ordered),
                                           "distorted": torch.stack([have[lv] for lv in ordered])}
        save_checkpoint(path, entry)
        entries[source] = entry
    if log is not None:
        log.write({"event": "cache", "sources": len(entries)})
    return entries


def _to_uint8(patches: torch.Tensor) -> torch.Tensor:
    return (patches * 255.0).round().clamp(0, 255).to(torch.uint8)


@dataclass
class _Group:
    """One (source, codec) pair: its cached patches and levels, and its labels (one per viewing condition)."""

    reference: torch.Tensor
    jnd: torch.Tensor | None
    levels: list[int]
    distorted: torch.Tensor
    labels: list[dict] = field(default_factory=list)


def make_groups(samples: list[Any], entries: dict[str, dict], config: VPJNDConfig) -> list[_Group]:
    groups: dict[tuple[str, str], _Group] = {}
    for sample in samples:
        entry = entries.get(sample.source)
        if entry is None or sample.codec not in entry["codecs"]:
            continue
        key = (sample.source, sample.codec)
        if key not in groups:
            cached = entry["codecs"][sample.codec]
            jnd = entry["jnd"][config.jnd_model].float() if config.reads_jnd_map else None
            groups[key] = _Group(entry["reference"], jnd, cached["levels"].tolist(), cached["distorted"])
        condition = sample_condition(sample)
        family = codec_family(sample.codec, config.codec_families)
        groups[key].labels.append({
            "label": float(sample.jnd_level), "better": sample.better, "codec": family,
            "task": config.task_index(condition.task), "distance": math.log2(condition.ppd / TRAINING_PPD),
            "condition": condition.describe(),
            "key": calibration_key(codec_family_name(sample.codec, config.codec_families), condition.task,
                                   condition.ppd),
        })
    return list(groups.values())


def dihedral(patches: torch.Tensor, turns: int, mirror: bool) -> torch.Tensor:
    """``patches`` (any leading dimensions, pixels last two) turned ``turns`` quarter turns and, when ``mirror``,
    mirrored left to right: one of the eight symmetries of the square."""
    turned = torch.rot90(patches, turns % 4, dims=(-2, -1))
    return turned.flip(-1) if mirror else turned


def _group_logits(net: VPJNDNet, group: _Group, level_rows: list[int], patch_rows: torch.Tensor | slice,
                  device: torch.device, symmetry: tuple[int, bool] = (0, False)) -> torch.Tensor:
    """Logits of the labels, offsets added (levels x labels); ``symmetry`` (quarter turns, mirror) is applied to the
    reference, JND-map and distorted patches alike (training augmentation)."""
    reference = dihedral(group.reference[patch_rows].to(device).float() / 255.0, *symmetry)
    jnd = dihedral(group.jnd[patch_rows].to(device), *symmetry) if group.jnd is not None else None
    f_ref, f_jnd = net.reference_features(reference, jnd)
    patches = reference.shape[0]
    distorted = dihedral(group.distorted[level_rows][:, patch_rows].to(device).float() / 255, *symmetry)
    distorted = distorted.reshape(-1, *reference.shape[1:])
    repeat = len(level_rows)
    quality, weight = net.patch_scores(f_ref.repeat(repeat, 1, 1, 1),  # F_ref: the stage-4 maps (N x C x h x w)
                                       f_jnd.repeat(repeat, 1) if f_jnd is not None else None, distorted)
    base, _ = pool_patch_logits(quality, weight, [patches] * repeat)
    count = len(group.labels)
    codecs = torch.tensor([lab["codec"] for lab in group.labels], device=device).repeat(repeat)
    tasks = torch.tensor([lab["task"] for lab in group.labels], device=device).repeat(repeat)
    distances = torch.tensor([lab["distance"] for lab in group.labels], device=device).repeat(repeat)
    logits = add_condition_offsets(base.repeat_interleave(count), net.codec_offsets, net.task_offsets,
                                   net.distance_offsets, codecs, tasks, distances)
    return logits.view(repeat, count)


def _targets(group: _Group, level_rows: list[int]) -> torch.Tensor:
    rows = []
    for row in level_rows:
        level = group.levels[row]
        rows.append([float(is_worse(level, lab["label"], lab["better"])) for lab in group.labels])
    return torch.tensor(rows)


@torch.no_grad()
def _all_logits(net: VPJNDNet, groups: list[_Group], device: torch.device) -> list[torch.Tensor]:
    """Each group's logits at every cached level with all cached patches (levels x labels)."""
    net.eval()
    out = []
    for group in groups:
        rows = list(range(len(group.levels)))
        out.append(torch.cat([_group_logits(net, group, rows[i : i + 16], slice(None), device).cpu()
                              for i in range(0, len(rows), 16)]))
    net.train()
    return out


def fit_calibration(net: VPJNDNet, groups: list[_Group], device: torch.device) -> dict[str, float]:
    """Per (codec family, task, ppd) of the labels: the logit delta that minimises the exhaustive PW-JND's mean
    absolute error on ``groups`` (the training images); :func:`jndviewer.core.train.samples.fit_condition_deltas`."""
    rows = [(label["key"], group.levels, values[:, index].numpy(), label["better"], label["label"])
            for group, values in zip(groups, _all_logits(net, groups, device), strict=True)
            for index, label in enumerate(group.labels)]
    return fit_condition_deltas(rows)


def calibration_groups(train_groups: list[_Group], seed: int, count: int) -> list[_Group]:
    """The ``count`` training (source, codec) pairs a run of ``seed`` fits its per-condition calibration on (drawn
    from the seed alone, so that a later refit on other labels of the same images takes the same pairs)."""
    pick = np.random.default_rng(seed).permutation(len(train_groups))[:count]
    return [train_groups[int(i)] for i in sorted(pick)]


@torch.no_grad()
def evaluate_groups(net: VPJNDNet, groups: list[_Group], device: torch.device,
                    calibration: dict[str, float] | None = None) -> dict[str, Any]:
    """Exhaustive PW-JND over each label's cached levels: MAE (overall and per condition) and per-level accuracy
    (with ``calibration``'s deltas added per label, when given)."""
    if not groups:
        return {"mae": None, "accuracy": None, "labels": 0}
    errors: dict[str, list[float]] = defaultdict(list)
    correct = total = 0
    for group, logits in zip(groups, _all_logits(net, groups, device), strict=True):
        rows = list(range(len(group.levels)))
        if calibration:
            logits = logits + torch.tensor([calibration.get(lab["key"], 0.0) for lab in group.labels])
        targets = _targets(group, rows)
        correct += int(((logits > 0).float() == targets).sum())
        total += targets.numel()
        for index, label in enumerate(group.labels):
            visible = (logits[:, index] > 0).tolist()
            predicted = pwjnd_from_decisions(group.levels, visible, label["better"])
            errors[label["condition"]].append(abs(predicted - label["label"]))
    every = [e for values in errors.values() for e in values]
    return {"mae": float(np.mean(every)), "accuracy": correct / max(total, 1), "labels": len(every),
            "by_condition": {name: round(float(np.mean(values)), 3) for name, values in sorted(errors.items())}}


def _resumed_state(checkpoint: Path, model_config: VPJNDConfig, recorded: dict[str, Any]) -> dict | None:
    """The run's checkpoint, when there is one, once its network configuration and training settings are those asked
    for (else one sentence); None for a new run."""
    if not checkpoint.exists():
        return None
    state = load_checkpoint(checkpoint)
    stored = state.get("config")  # checkpoints written before it was stored: not checkable here
    if stored is not None and VPJNDConfig.from_dict(stored) != model_config:
        raise JndViewerError(f"The checkpoint {checkpoint} was trained with another network configuration "
                             "(weight head, JND model, ...); train in a new run folder (--run).")
    # checkpoints written before these were stored: every one unaugmented, on the earlier patch count; its seed not
    # checkable
    earlier = (("augment", "none"), ("seed", recorded["seed"]), ("cache_patches", EARLIER_CACHE_PATCHES))
    for option, before in earlier:
        if (trained := state.get(option, before)) != (value := recorded[option]):
            flag = "--" + option.replace("_", "-")
            raise JndViewerError(f"The checkpoint {checkpoint} was trained with {flag} {trained}, not {value}; "
                                 "train in a new run folder (--run).")
    return state


def train_vpjnd(config: VPJNDTrainingConfig, *, progress: bool = True) -> Path:
    """Build (or resume) the cache, train (or resume) the network, export it; the exported file's path."""
    from jndviewer.core.datasets import read_dataset, split_by_source

    if config.augment not in AUGMENTS:
        raise JndViewerError(f"Unknown augmentation {config.augment!r}; choose one of {', '.join(AUGMENTS)}.")
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    run = Path(config.run_dir)
    log = TrainingLog(run / "log.jsonl")
    model_config = VPJNDConfig.from_dict(config.config)
    samples = [s for spec in config.data for s in read_dataset(spec) if s.reference is not None]
    if not samples:
        raise JndViewerError("None of the training samples has its images available.")
    train, validation, held_out = split_by_source(samples, 0.0, config.validation_share, config.seed)
    if not train:
        raise JndViewerError("No training sample is left after the split (Kodak images are never trained on).")
    checkpoint = run / "checkpoint.pt"
    # the training settings a run keeps with it
    recorded = {"augment": config.augment, "seed": config.seed, "cache_patches": config.cache_patches}
    state = _resumed_state(checkpoint, model_config, recorded)  # checked before a cache is built for it
    cache = Path(config.cache_dir) if config.cache_dir else run / "cache"
    entries = build_patch_cache(train + validation, model_config, cache, config.cache_patches, config.window, log)
    train_groups = make_groups(train, entries, model_config)
    val_groups = make_groups(validation, entries, model_config)
    device = torch.device(config.device)
    net = VPJNDNet(model_config).to(device)
    offsets = [p for name, p in net.named_parameters() if name.endswith("_offsets")]
    others = [p for name, p in net.named_parameters() if not name.endswith("_offsets")]
    optimiser = torch.optim.AdamW([{"params": others, "lr_factor": 1.0},
                                   {"params": offsets, "lr_factor": OFFSET_LR_FACTOR, "weight_decay": 0.0}],
                                  lr=config.learning_rate, weight_decay=config.weight_decay)
    step = 0
    if state is not None:
        try:
            net.load_state_dict(state["net"])
            optimiser.load_state_dict(state["optimiser"])
        except (RuntimeError, KeyError, TypeError, ValueError) as err:
            raise JndViewerError(f"The checkpoint {checkpoint} holds a network of another configuration; train in a "
                                 "new run folder (--run).") from err
        step = int(state["step"])
        log.write({"event": "resumed", "step": step, **recorded})
    else:
        log.write({"event": "started", "config": asdict(config), "train_groups": len(train_groups),
                   "validation_groups": len(val_groups), "held_out_samples": len(held_out)})
    rng = np.random.default_rng((config.seed, step))
    # the symmetries from a generator of their own: with and without them, a seed draws the same pairs, levels and
    # patches, so the two runs differ only in the augmentation
    turns = np.random.default_rng((config.seed, step, 1))
    bar = tqdm(total=config.steps, initial=step, disable=not progress, mininterval=10, desc="train vpjnd")
    started = time.perf_counter()
    while step < config.steps:
        for group_params in optimiser.param_groups:
            cosine = 0.5 * (1 + math.cos(math.pi * step / config.steps))
            group_params["lr"] = group_params["lr_factor"] * config.learning_rate * cosine
        losses = []
        for index in rng.integers(0, len(train_groups), config.groups):
            group = train_groups[int(index)]
            rows = sorted(rng.choice(len(group.levels), min(config.levels, len(group.levels)), replace=False).tolist())
            count = group.reference.shape[0]
            keep = torch.from_numpy(np.sort(rng.choice(count, int(rng.integers(1, count + 1)), replace=False)))
            symmetry = ((int(turns.integers(0, 4)), bool(turns.integers(0, 2))) if config.augment == "dihedral"
                        else (0, False))
            logits = _group_logits(net, group, rows, keep, device, symmetry)
            losses.append(F.binary_cross_entropy_with_logits(logits, _targets(group, rows).to(device),
                                                             reduction="sum") / logits.numel())
        loss = torch.stack(losses).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        step += 1
        bar.update(1)
        if step % config.validate_every == 0 and step < config.steps:  # the last step is validated below
            metrics = evaluate_groups(net, val_groups, device)
            log.write({"event": "validation", "step": step, "loss": float(loss.detach()), **metrics,
                       "seconds": round(time.perf_counter() - started, 1)})
            if metrics["mae"] is not None:
                bar.set_postfix(loss=f"{float(loss.detach()):.3f}", val_mae=f"{metrics['mae']:.2f}")
        if step % config.validate_every == 0 or step == config.steps:
            save_checkpoint(checkpoint, {"net": net.state_dict(), "optimiser": optimiser.state_dict(), "step": step,
                                         "config": model_config.to_dict(), **recorded})
    bar.close()
    uncalibrated = evaluate_groups(net, val_groups, device)
    log.write({"event": "validation", "step": step, **uncalibrated, "seconds": round(time.perf_counter() - started, 1)})
    calibration = fit_calibration(net, calibration_groups(train_groups, config.seed, config.calibration_groups), device)
    metrics = evaluate_groups(net, val_groups, device, calibration)
    log.write({"event": "calibration", "deltas": calibration, "validation": metrics,
               "validation_uncalibrated": uncalibrated})
    path = Path(config.export)
    save_checkpoint(path, {
        "format": EXPORT_FORMAT, "version": 1, "config": model_config.to_dict(),
        "state": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
        "calibration": calibration,
        "training": {"steps": config.steps, **recorded, "data": list(config.data), "train_groups": len(train_groups),
                     "validation_groups": len(val_groups), "validation": metrics,
                     "validation_uncalibrated": uncalibrated},
    })
    (run / "export.json").write_text(json.dumps({"validation": metrics, "validation_uncalibrated": uncalibrated,
                                                 "calibration": calibration, "steps": config.steps,
                                                 **recorded,
                                                 "jnd_model": model_config.jnd_model,
                                                 "config": model_config.to_dict()}, indent=1))
    return path


__all__ = ["NO_JND_MAP", "VPJNDTrainingConfig", "build_patch_cache", "cache_file", "calibration_groups", "dihedral",
           "evaluate_groups", "fit_calibration", "make_groups", "train_vpjnd"]
