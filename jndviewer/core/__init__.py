"""Qt-free core of jndviewer: images, devices, JND models, codecs, predictors.

Nothing below this package imports Qt; the GUI (``jndviewer.app``) and the CLI call the same functions.
"""
