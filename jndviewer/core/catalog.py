"""Names the front ends need before torch is imported (argument parsing, menus).

Kept equal to the registries by ``tests/core/test_catalog.py``.
"""

#: The pixel-wise JND models of :mod:`jndviewer.core.jnd`, in menu order.
JND_MODEL_NAMES: tuple[str, ...] = ("chou1995", "yang2005", "wu2013", "wu2017")
DEFAULT_JND_MODEL = "wu2017"
