"""Test-wide settings: Qt renders offscreen unless ``--headed`` is given, and the ``gui`` marker is registered."""

from __future__ import annotations

import os
import sys

import pytest

if "--headed" not in sys.argv:  # before anything imports Qt
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--headed", action="store_true", help="show GUI tests in real windows (default: offscreen)")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--headed", default=False):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    config.addinivalue_line("markers", "gui: needs Qt (PySide6, pytest-qt); skipped where Qt is not installed")
