"""The torch-free catalog of names stays equal to the registries."""

from jndviewer.core import catalog
from jndviewer.core.jnd import DEFAULT_MODEL, MODELS


def test_jnd_model_names_match_registry() -> None:
    assert tuple(MODELS) == catalog.JND_MODEL_NAMES
    assert catalog.DEFAULT_JND_MODEL == DEFAULT_MODEL
    assert tuple(catalog.JND_MODEL_TITLES) == catalog.JND_MODEL_NAMES
    assert {name: cls.title for name, cls in MODELS.items()} == catalog.JND_MODEL_TITLES


def test_the_jnd_package_imports_torch_only_when_a_model_is_asked_for() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import jndviewer.core.jnd as jnd; from jndviewer.core.jnd import numpy_models, definitions; "
        "before = 'torch' in sys.modules; jnd.MODELS; print(before, 'torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
