"""The explorer's File > Export actions: the view, the JND map, the image at the chosen predictor's PW-JND (as
``jndviewer export``) and the results JSON (as ``jndviewer predict``).

:class:`ExportActions` is mixed into the main window, whose state, session, canvas and status bar it uses; the
image is written on the window's ``export_runner`` in the background.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from jndviewer.app.jobs import LoadedImage
from jndviewer.app.readouts import short_name
from jndviewer.app.workers import JobContext
from jndviewer.core.batch import write_image_at_level
from jndviewer.core.errors import JndViewerError
from jndviewer.core.preview import scale_words


class ExportActions:
    """File > Export of the main window (see the module docstring)."""

    state: Any
    session: Any
    canvas: Any
    export_runner: Any
    export_done: Any

    def _export_dialog(self, kind: str) -> None:
        stem = Path(self.state.image_path).stem or "jndviewer"
        filters = {
            "view": ("PNG image (*.png)", f"{stem}.{self.state.mode.token}.png"),
            "map": ("PNG with colour bar (*.png);;NumPy array (*.npy);;TIFF float32 (*.tif)",
                    f"{stem}.{self.state.jnd_model}.{self.state.component}.png"),
            "image": ("Compressed image (*)", f"{stem}.jnd{self._codec_suffix()}"),
            "results": ("Results JSON (*.json);;Results CSV (*.csv)", f"{stem}.results.json"),
        }[kind]
        start = str(Path(self.state.image_path).with_name(filters[1])) if self.state.image_path else filters[1]
        path, _ = QFileDialog.getSaveFileName(self, "Export", start, filters[0])
        if not path:
            return
        try:
            {"view": self.export_view, "map": self.export_jnd_map, "image": self.export_at_jnd,
             "results": self.export_results}[kind](path)  # fmt: skip
        except JndViewerError as err:
            self._set_status(str(err), error=True)
            QMessageBox.warning(self, "Export failed", str(err))

    def _codec_suffix(self) -> str:
        ladder = self.session.ladder
        return ladder.codec.suffix if ladder is not None else ".jpg"

    def export_view(self, path: str | Path) -> Path:
        """Save what the canvas shows now (both panes side by side) as a PNG."""
        path = Path(path)
        if not self.canvas.grab().save(str(path), "PNG"):
            raise JndViewerError(f"Cannot write {path}.")
        self._exported(path)
        return path

    def export_jnd_map(self, path: str | Path) -> Path:
        """Save the JND map (or the selected component) as PNG with colour bar, or raw float32 .npy/.tif (of the
        preview, for an image that has one: its title says so)."""
        from jndviewer.core.render import save_map

        jnd = self.session.jnd
        if jnd is None:
            raise JndViewerError("The JND map has not been computed yet.")
        component = self.state.component
        name = Path(self.state.image_path).name
        scale = f"  ·  {scale_words(self.session.scale)}" if self.session.scale > 1 else ""
        written = save_map(jnd.layer(component), path, title=f"{name}  ·  {jnd.title}  ·  {component}{scale}",
                           label=jnd.layer_label(component))  # fmt: skip
        self._exported(written)
        return written

    def export_at_jnd(self, path: str | Path) -> None:
        """Write the image at the chosen predictor's PW-JND and its JSON sidecar (as ``jndviewer export``), in the
        background."""
        session = self.session
        result = session.chosen_prediction
        if result is None or session.ladder is None or session.loaded is None:
            raise JndViewerError(f"There is no {self._chosen_title()} prediction to export yet.")
        self.export_runner.submit(
            export_job, session.loaded, session.ladder.codec, result, str(path),
            description=f"Writing {Path(path).name}",
        )  # fmt: skip

    def export_results(self, path: str | Path) -> Path:
        """Write the chosen predictor's prediction in the results schema of ``jndviewer predict`` (.json or .csv)."""
        from jndviewer.core.report import write_results

        result = self.session.chosen_prediction
        if result is None:
            raise JndViewerError(f"There is no {self._chosen_title()} prediction to export yet.")
        write_results(path, [result], [])
        self._exported(Path(path))
        return Path(path)

    def _chosen_title(self) -> str:
        return short_name(self.state.go_predictor)

    def _on_exported(self, paths: tuple[Path, Path]) -> None:
        self._exported(paths[0], f" and {paths[1].name}")

    def _exported(self, path: Path, extra: str = "") -> None:
        self._set_status(f"Wrote {path}{extra}")
        self.export_done.emit(str(path))


def export_job(context: JobContext, loaded: LoadedImage, codec: Any, result: Any, path: str) -> tuple[Path, Path]:
    return write_image_at_level(loaded.image, codec, result, path, loaded.path)


__all__ = ["ExportActions", "export_job"]
