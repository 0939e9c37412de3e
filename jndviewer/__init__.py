"""jndviewer: a desktop explorer for just-noticeable distortion (JND) in images."""

__version__ = "0.1.0"
