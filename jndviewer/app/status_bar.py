"""The explorer's status bar: messages, "Ready" or "Working…" between them, the running jobs and their progress (a
percentage once a job reports numbers). A mixin of :class:`jndviewer.app.main_window.MainWindow`, kept apart so that
each module stays small; it uses the window's status widgets and runners and defines nothing else.
"""

from __future__ import annotations

from typing import Any

READY, WORKING = "Ready", "Working…"
ERROR_STYLE = "color: #c62828;"


class StatusBarMixin:
    """Status-bar behaviour of the main window."""

    # Provided by MainWindow.
    status_label: Any
    jobs_label: Any
    progress: Any
    stop_button: Any
    session: Any
    export_runner: Any
    _message_timer: Any

    def _on_message(self, level: str, text: str) -> None:
        self._set_status(text, error=level == "error")

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")
        if text not in (READY, WORKING):
            self._message_timer.start()

    def _running_jobs(self) -> list[str]:
        return [r.description for r in (*self.session.runners, self.export_runner) if r.busy]

    def _rest_status(self) -> None:
        """Between messages: "Ready", or "Working…" while jobs run (never "Ready" beside running jobs)."""
        self._set_status(WORKING if self._running_jobs() else READY)

    def _update_jobs(self, *_: Any) -> None:
        running = self._running_jobs()
        if not self._message_timer.isActive():
            self._rest_status()
        self.jobs_label.setText(", ".join(running[:2]) + (" …" if len(running) > 2 else ""))
        self.progress.setVisible(bool(running))
        self.stop_button.setVisible(bool(running))
        if not running:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress.setTextVisible(False)
        elif self.progress.maximum() == 1:
            self.progress.setRange(0, 0)  # busy until some job reports numbers
            self.progress.setTextVisible(False)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        else:
            self.progress.setRange(0, 0)
        self.progress.setTextVisible(total > 0)
        self.progress.setToolTip(text)
