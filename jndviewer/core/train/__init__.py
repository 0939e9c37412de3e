"""Training loops for the learned parts of jndviewer (codecs, predictors). Run through ``jndviewer train``."""
