"""A plain (non-editable) wheel of the checkout installs and runs from outside the checkout.

Mechanism, offline and without the editable install:

- the wheel is built with the test's own interpreter (``pip wheel --no-deps --no-build-isolation``, setuptools
  from the test's environment) from a copy of the checkout's ``pyproject.toml``, ``README.md`` and ``jndviewer/``,
  so that setuptools' in-tree ``build/`` and ``*.egg-info`` never land in (or go stale in) the checkout;
- a fresh virtual environment is created WITHOUT system site packages and WITHOUT pip;
- a ``.pth`` file in its site-packages appends the test interpreter's site-packages to ``sys.path``, so the
  third-party wheels already installed there (torch, numpy, PySide6, compressai, ...) are reused without network.
  A directory named by a ``.pth`` line is only appended to ``sys.path``: the ``.pth`` files inside it are not run,
  so the checkout's editable install (``__editable__.jndviewer-*.pth`` and its import finder) stays inactive;
- the wheel is installed into the new environment by the test interpreter's pip
  (``pip --python NEW_PYTHON install --no-deps --no-index``), which also writes ``bin/jndviewer``;
- every command runs from ``tmp_path`` (outside the checkout, no ``PYTHONPATH``), and the test asserts that
  ``jndviewer.__file__`` lies inside the new environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from jndviewer.core.assets import sample_image

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300


def _run(cmd: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}"
        f"\n--- stderr\n{result.stderr[-6000:]}"
    )
    return result


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_checkout(tmp_path: Path) -> None:
    source, wheels, env_dir, work = (tmp_path / name for name in ("source", "wheels", "venv", "work"))
    shutil.copytree(ROOT / "jndviewer", source / "jndviewer", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    work.mkdir()
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", wheels, source], work)
    (wheel,) = wheels.glob("jndviewer-*.whl")

    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    new_site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], work).stdout.strip())
    assert new_site.is_relative_to(env_dir)
    outer = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (new_site / "_outer_site_packages.pth").write_text("".join(f"{p}\n" for p in sorted(outer)))
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel], work)

    located = _run([python, "-c", "import jndviewer; print(jndviewer.__file__)"], work).stdout.strip()
    package = Path(located).parent
    assert package.is_relative_to(env_dir), f"jndviewer imported from {located}, not from the wheel"
    for name in ("pwjnd_calibration.json", "models/sgjnd.pt", "models/vpjnd.pt", "sample.png"):
        assert (package / "assets" / name).is_file(), f"the wheel lacks assets/{name}"

    jndviewer = env_dir / "bin" / "jndviewer"
    lines = _run([jndviewer, "codecs"], work).stdout.splitlines()
    learned = next((i for i, line in enumerate(lines) if line.split()[:1] == ["learned"]), None)
    assert learned is not None, "\n".join(lines)
    assert lines[learned + 1].rstrip().endswith("; available"), "\n".join(lines[learned : learned + 2])

    sample = shutil.copyfile(sample_image(), work / "sample.png")
    for predictor, output in (("visibility", "a.json"), ("sgjnd", "b.json"), ("vpjnd", "c.json")):
        _run([jndviewer, "predict", sample, "--predictor", predictor, "--jobs", "1", "-o", output], work)
        (result,) = json.loads((work / output).read_text())["results"]
        assert result["predictor"] == predictor, result
        assert 1 <= result["level"] <= 100, result
