"""The project's exceptions.

Every error a user can cause (a bad file, a wrong checkpoint, a missing codec, an unavailable device) is raised as a
:class:`JndViewerError` subclass whose message is one clear sentence, so the CLI and the GUI can show it as it is,
without a traceback.
"""


class JndViewerError(Exception):
    """Base class of all user-facing errors; ``str(err)`` is a single sentence."""


class ImageLoadError(JndViewerError):
    """An image file could not be read (missing, empty, corrupt, truncated, not an image, too large)."""


class DeviceError(JndViewerError):
    """A requested compute device is not available."""


class ModelError(JndViewerError):
    """An unknown model name, a bad parameter, or an unusable checkpoint."""
