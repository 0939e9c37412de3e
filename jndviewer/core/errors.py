"""The project's exceptions.

Every error a user can cause (a bad file, a wrong checkpoint, a missing codec, an unavailable device) is raised as a
:class:`JndViewerError` subclass whose message is one clear sentence, so the CLI and the GUI can show it as it is,
without a traceback.

The exit statuses of every command are defined here once (README "Command line" lists them).
"""

#: Everything was done.
EXIT_OK = 0
#: The command ran, but some images failed (it says how many) or an output could not be written where asked.
EXIT_FAILED = 1
#: A user error found before any work (an unknown codec, a bad option, an unreadable input, an unwritable output);
#: nothing is written. argparse's own usage errors exit with this status too.
EXIT_USAGE = 2
#: Ctrl-C (128 + SIGINT); the finished results are kept.
EXIT_INTERRUPTED = 130
#: SIGTERM (128 + SIGTERM), handled like Ctrl-C.
EXIT_TERMINATED = 143


class JndViewerError(Exception):
    """Base class of all user-facing errors; ``str(err)`` is a single sentence."""


class ImageLoadError(JndViewerError):
    """An image file could not be read (missing, empty, corrupt, truncated, not an image, too large)."""


class DeviceError(JndViewerError):
    """A requested compute device is not available."""


class ModelError(JndViewerError):
    """An unknown model name, a bad parameter, or an unusable checkpoint."""
