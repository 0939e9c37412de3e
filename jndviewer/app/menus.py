"""The main window's menus, toolbar actions and keyboard shortcuts (mixed into :class:`MainWindow`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from jndviewer.app.dialogs import ShortcutsDialog
from jndviewer.app.modes import CompareMode, WipeStop


class MenuActions:
    """File, View, Level and Help menus, the mode toolbar and their shortcuts."""

    state: Any
    session: Any
    canvas: Any
    controls_dock: Any
    analysis_dock: Any

    def _action(self, text: str, shortcuts: list[str] | str | None, slot: Any, tip: str = "") -> QAction:
        action = QAction(text, self)
        keys = [shortcuts] if isinstance(shortcuts, str) else list(shortcuts or [])
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip or text} ({', '.join(keys)})" if keys else tip or text)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.open_action = self._action("&Open…", "Ctrl+O", self.open_dialog)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addAction(self._action("Open a &ladder folder…", "Ctrl+Shift+O", self.open_ladder_folder_dialog,
                                         "A folder of encodes of one image (KonJND-1k style, or LEVEL-named files)"))
        sample = self._action("Open the &sample image", None, lambda: self.open_path(_sample_image()))
        file_menu.addAction(sample)
        file_menu.addSeparator()
        export_menu = file_menu.addMenu("&Export")
        self.export_actions = {
            "view": self._action("Current &view as PNG…", "Ctrl+Shift+S", lambda: self._export_dialog("view")),
            "map": self._action("JND &map as PNG/NPY…", "Ctrl+Shift+M", lambda: self._export_dialog("map")),
            "image": self._action(
                "&Image at the predicted PW-JND…", "Ctrl+Shift+E", lambda: self._export_dialog("image")
            ),
            "results": self._action("&Results as JSON…", "Ctrl+Shift+R", lambda: self._export_dialog("results")),
        }
        for action in self.export_actions.values():
            export_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", "Ctrl+Q", self.close))

        view_menu = menu.addMenu("&View")
        self.mode_toolbar = self.addToolBar("Modes")
        self.mode_toolbar.setObjectName("mode_toolbar")
        self.mode_toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.mode_group = QActionGroup(self)
        self.mode_actions: dict[CompareMode, QAction] = {}
        for mode in CompareMode:
            action = self._action(f"{mode.label}", mode.key, lambda _=False, m=mode: setattr(self.state, "mode", m),
                                  mode.tooltip)  # fmt: skip
            action.setIconText(f"{mode.label} [{mode.key}]")  # the toolbar names the key; menus show shortcuts
            action.setCheckable(True)
            self.mode_group.addAction(action)
            self.mode_actions[mode] = action
            self.mode_toolbar.addAction(action)
            view_menu.addAction(action)
        self.mode_toolbar.addSeparator()
        view_menu.addSeparator()
        self.patch_action = self._action(
            "Patch weights", "Shift+W", lambda checked=False: setattr(self.state, "patch_overlay", checked),
            "Draw the patches of the current level, as SG-JND or VP-JNDnet (chosen beside Overlay) weighs them, over "
            "the image: fill by weight, red outline where the distortion is predicted visible; hover a patch for its "
            "weight and quality",
        )  # fmt: skip
        self.patch_action.setText("Patch weights")
        self.patch_action.setIconText("Patch weights [Shift+W]")
        self.patch_action.setCheckable(True)
        self.mode_toolbar.addAction(self.patch_action)
        self.mode_toolbar.addSeparator()
        view_menu.addAction(self.patch_action)
        view_menu.addSeparator()
        self.wipe_actions = {}
        for stop in WipeStop:
            action = self._action(stop.label, stop.key, lambda _=False, s=stop: self.set_wipe_stop(s))
            self.wipe_actions[stop] = action
            view_menu.addAction(action)
        view_menu.addSeparator()
        self.zoom_actions = {
            "in": self._action("Zoom &in", ["+", "="], lambda: self.canvas.zoom_step(1)),
            "out": self._action("Zoom &out", "-", lambda: self.canvas.zoom_step(-1)),
            "fit": self._action("&Fit", ["0", "Ctrl+0"], self.canvas.fit),
            "1:1": self._action("&Actual pixels (1:1)", "Ctrl+1", self.canvas.one_to_one),
        }
        for key in ("fit", "1:1", "in", "out"):
            self.mode_toolbar.addAction(self.zoom_actions[key])
            view_menu.addAction(self.zoom_actions[key])
        self.full_resolution_action = self._action(
            "&Full resolution here", "R", self.full_resolution_here,
            "For an image shown with a preview: compute the JND and visibility maps of the region in view at full "
            "resolution (done by itself at 100 % zoom and more)",
        )  # fmt: skip
        self.full_resolution_action.setEnabled(False)
        view_menu.addAction(self.full_resolution_action)
        view_menu.addSeparator()
        view_menu.addAction(self.controls_dock.toggleViewAction())
        view_menu.addAction(self.analysis_dock.toggleViewAction())

        level_menu = menu.addMenu("&Level")
        self.level_actions = {
            "next": self._action("&Better level", "Right", lambda: self.session.step_level(1)),
            "previous": self._action("&Worse level", "Left", lambda: self.session.step_level(-1)),
            "next10": self._action("10 levels better", "PgUp", lambda: self.session.step_level(10)),
            "previous10": self._action("10 levels worse", "PgDown", lambda: self.session.step_level(-10)),
            "worst": self._action("Wor&st level", "Home", lambda: self.session.jump_level("worst")),
            "best": self._action("B&est level", "End", lambda: self.session.jump_level("best")),
            "play": self._action("&Play / pause", "Space", self.toggle_play),
            "jnd": self._action("&Go to the predicted PW-JND", "G", self.go_to_jnd),
            "predict": self._action("P&redict PW-JND", "P", lambda: self.session.predict()),
            "cancel": self._action("&Cancel background jobs", "Esc", self.cancel_jobs),
        }
        for action in self.level_actions.values():
            level_menu.addAction(action)

        study_menu = menu.addMenu("&Study")
        study_menu.addAction(self._action("&Run a study…", None, self.run_study,
                                          "Measure your own JND blind (flicker, side by side or forced choice)"))
        study_menu.addAction(self._action("Study &results…", None, self.study_results))

        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard shortcuts", "F1", self.show_shortcuts))
        help_menu.addAction(self._action("&Lessons…", None, self.show_lessons, "Interactive lessons on this image"))
        help_menu.addAction(self._action("&About jndviewer", None, self._about))

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, action) for every action with a shortcut, in menu order."""
        rows = []
        for action in self.actions():
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
            if keys:
                rows.append((keys, action.text().replace("&", "").split(" [")[0]))
        return rows

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.shortcut_rows(), self).exec()

    def show_lessons(self) -> None:
        """Help > Lessons: the lessons window on the image shown (jndviewer/app/lessons/)."""
        from jndviewer.app.lessons import open_lessons

        path = self.state.image_path
        self._lessons_window = open_lessons(self, path or None)

    def open_ladder_folder_dialog(self) -> None:
        """File > Open a ladder folder: pick the folder; its source image opens with it."""
        from PySide6.QtWidgets import QFileDialog

        start = str(Path(self.state.image_path).parent) if self.state.image_path else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a ladder folder", start)
        if folder:
            self.open_ladder_folder(folder)

    def open_ladder_folder(self, folder: str | Path) -> bool:
        """Open a folder of encodes as the codec, with its source image (found by convention) as A; a folder that
        cannot be used says why in one sentence and changes nothing."""
        from PySide6.QtWidgets import QMessageBox

        from jndviewer.core.codecs import FOLDER_PREFIX, create_codec
        from jndviewer.core.errors import JndViewerError

        spec = f"{FOLDER_PREFIX}{folder}"
        try:
            codec = create_codec(spec)
            source = codec.source_path
            if source is None:
                raise JndViewerError(f"The folder {Path(folder).name} has no source image that could be found; "
                                     f"put the original beside the encodes (NAME.png or NAME_ref.png).")
        except JndViewerError as error:
            QMessageBox.warning(self, "Open a ladder folder", str(error))
            return False
        self.open_path(source)
        self.state.codec = spec
        self._set_status(codec.describe())
        return True

    def run_study(self) -> None:
        """Study > Run a study: the setup dialog offers the shipped set, the current image or a folder."""
        from jndviewer.app.study import open_study

        image = Path(self.state.image_path) if self.state.image_path else None
        self._study_window = open_study(self, current_image=image, current_codec=self.state.codec)

    def study_results(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from jndviewer.app.study import show_results
        from jndviewer.core.errors import JndViewerError
        from jndviewer.core.study.store import StudyStore, default_database

        if not default_database().is_file():
            QMessageBox.information(self, "Study results", "No study has been run yet: Study > Run a study.")
            return
        try:
            self._study_results = show_results(self, StudyStore(default_database()))
        except JndViewerError as error:
            QMessageBox.warning(self, "Study results", str(error))


def _sample_image() -> Path:
    from jndviewer.core.assets import sample_image

    return sample_image()


__all__ = ["MenuActions"]
