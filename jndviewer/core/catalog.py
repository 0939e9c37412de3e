"""Names the front ends need before torch is imported (argument parsing, menus), each defined once here.

Kept equal to the registries by ``tests/core/test_catalog.py``.
"""

#: The pixel-wise JND models of :mod:`jndviewer.core.jnd`, in menu order.
JND_MODEL_NAMES: tuple[str, ...] = ("chou1995", "yang2005", "wu2013", "wu2017")
DEFAULT_JND_MODEL = "wu2017"
#: Their titles in menus, plots and the maps ``jndviewer map`` writes (the models' ``title``).
JND_MODEL_TITLES: dict[str, str] = {
    "chou1995": "Chou & Li 1995",
    "yang2005": "Yang et al. 2005 (NAMM)",
    "wu2013": "Wu et al. 2013 (free energy)",
    "wu2017": "Wu et al. 2017 (pattern complexity)",
}
#: The training-free predictor's visibility map that is not a pixel model: band-limited contrast thresholds
#: (:mod:`jndviewer.core.visibility.subband`).
SUBBAND = "subband"
#: The ways a visibility map is pooled to one score (:func:`jndviewer.core.visibility.pixel.pooled_score`).
POOLINGS: tuple[str, ...] = ("minkowski", "max_window", "fraction")
