"""A desktop entry and icon for jndviewer (``jndviewer desktop-entry``), so that it appears in the applications menu.

Writes, under the user's data directory (``$XDG_DATA_HOME`` or ``~/.local/share``), following the freedesktop.org
Desktop Entry and Icon Theme specifications:

- ``applications/jndviewer.desktop``, whose ``Exec`` is the ``jndviewer`` script of this installation;
- ``icons/hicolor/256x256/apps/jndviewer.png``, the packaged icon.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from jndviewer.core.assets import asset
from jndviewer.core.errors import JndViewerError

ICON = "icon.png"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def desktop_entry(exec_command: str) -> str:
    """The text of the desktop entry."""
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=jndviewer",
        "GenericName=JND explorer",
        "Comment=See where and when image distortion becomes visible",
        f"Exec={exec_command} %f",
        "Icon=jndviewer",
        "Terminal=false",
        "Categories=Graphics;Science;Education;",
        "MimeType=image/png;image/jpeg;image/tiff;image/webp;image/bmp;",
        "",
    ])


def install_desktop_entry(root: Path | None = None) -> list[Path]:
    """Write the desktop entry and the icon under ``root`` (default: the user's data directory); return the paths."""
    root = root or data_home()
    beside = Path(sys.executable).parent / "jndviewer"  # the script of this environment, even when not on PATH
    script = str(beside) if beside.is_file() else shutil.which("jndviewer") or f"{sys.executable} -m jndviewer.cli"
    entry = root / "applications" / "jndviewer.desktop"
    icon = root / "icons" / "hicolor" / "256x256" / "apps" / "jndviewer.png"
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        icon.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text(desktop_entry(script))
        shutil.copyfile(asset(ICON), icon)
    except OSError as error:
        raise JndViewerError(f"The desktop entry cannot be written under {root} ({error.strerror}).") from None
    return [entry, icon]
