"""How visible a distortion is: pixel maps against a JND map, band-limited contrast against thresholds, and scores.

- :mod:`~jndviewer.core.visibility.pixel`: ``|distortion| / JND`` of a pixel-wise JND model, and the poolings;
- :mod:`~jndviewer.core.visibility.subband`: band-limited contrast thresholds at a viewing condition (the default);
- :mod:`~jndviewer.core.visibility.scorer`: one reference image at one viewing condition, scoring decoded versions
  with either kind of map (what the training-free predictor, its calibration and the explorer share).
"""
