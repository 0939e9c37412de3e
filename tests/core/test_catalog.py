"""The torch-free catalog of names stays equal to the registries."""

from jndviewer.core import catalog
from jndviewer.core.jnd import DEFAULT_MODEL, MODELS


def test_jnd_model_names_match_registry() -> None:
    assert tuple(MODELS) == catalog.JND_MODEL_NAMES
    assert catalog.DEFAULT_JND_MODEL == DEFAULT_MODEL
