"""Torch files a user hands over (weights, training checkpoints, feature caches), read with one-sentence errors.

Every file is read with ``torch.load(..., weights_only=True)``, which refuses to rebuild arbitrary Python objects;
a file that holds some (a "hostile" pickle, or one from another program) is refused in one sentence instead of
PyTorch's page of advice, and so is a truncated or foreign file. :func:`load_matching` loads a state dict into a
module and names the first difference when the file is of another architecture, instead of PyTorch's dump of every
mismatching tensor.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from jndviewer.core.errors import JndViewerError

__all__ = ["load_matching", "load_torch_file", "state_mismatch"]


def load_torch_file(path: str | Path, what: str, error: type[JndViewerError] = JndViewerError) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; every failure is ``error`` with one sentence.

    ``what`` names the file's kind in the messages ("SG-JND checkpoint", "feature cache", ...).
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():  # a plain pickle's "Detected pickle protocol 4": the error below says enough
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as err:
        raise error(f"The {what} {path} does not exist.") from err
    except IsADirectoryError as err:
        raise error(f"The {what} {path} is a folder, not a file.") from err
    except PermissionError as err:
        raise error(f"The {what} {path} cannot be read: permission denied.") from err
    except pickle.UnpicklingError as err:
        if "unsupported global" in str(err).lower():  # a pickled object of a class or function: its __reduce__
            raise error(
                f"{path.name} was not loaded: it holds Python objects besides tensors and plain data, which could run "
                f"code when unpickled, and no {what} that jndviewer writes does."
            ) from err
        raise error(f"{path.name} is not a usable {what}: it is truncated, damaged or not a PyTorch file.") from err
    except Exception as err:  # truncated zip, not a torch file, an unpickling error of another kind
        raise error(f"{path.name} is not a usable {what}: it is truncated, damaged or not a PyTorch file.") from err


def _shape(tensor: torch.Tensor) -> str:
    return "×".join(str(size) for size in tensor.shape) or "a scalar"


def state_mismatch(module: torch.nn.Module, state: Mapping[str, Any]) -> str:
    """The first difference between ``module``'s state and ``state``, as a clause ("its x.weight is 64×48 where the
    network's is 32×48")."""
    own = module.state_dict()
    for key, value in own.items():
        if key not in state:
            return f"it has no {key}"
        theirs = state[key]
        if not isinstance(theirs, torch.Tensor):
            return f"its {key} is not a tensor"
        if tuple(theirs.shape) != tuple(value.shape):
            return f"its {key} is {_shape(theirs)} where the network's is {_shape(value)}"
    extra = [key for key in state if key not in own]
    if extra:
        return f"it has a {extra[0]}, which the network has not"
    return "its tensors do not fit the network"


def load_matching(
    module: torch.nn.Module,
    state: Any,
    *,
    name: str,
    what: str,
    error: type[JndViewerError] = JndViewerError,
    load: Callable[[Any], Any] | None = None,
) -> None:
    """``module.load_state_dict(state)`` (or ``load(state)``); a state of another architecture is one sentence
    naming the first difference."""
    if not isinstance(state, Mapping) or not all(isinstance(key, str) for key in state):
        raise error(f"{name} holds no {what} weights.")
    try:
        (load or module.load_state_dict)(state)
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise error(f"{name} does not match the {what} architecture: {state_mismatch(module, state)}.") from err
