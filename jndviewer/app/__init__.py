"""The desktop explorer (PySide6 + pyqtgraph): windows, views, panels and workers.

Everything here only *calls* :mod:`jndviewer.core` (the same functions the CLI uses) and adds threads and pixels.
Nothing in ``jndviewer.core`` imports this package, and torch is imported lazily (inside workers), so the window can
appear before torch is loaded.

Modules
-------
modes        the comparison modes (one enum with keys, labels and tooltips)
state        ``ViewState``: the observable view model (image, codec, level, mode, ...) that widgets bind to
workers      cancellable QThreadPool jobs with generation counters (stale results are dropped)
jobs         what the background jobs produce, the typed keys of cached pictures, and the jobs (Qt-free work in
             ``jndviewer.core.views``)
predictions  ``PredictionQueue``: every registered predictor's PW-JND, one at a time, results by name
session      ``Session``: image, ladder, maps and jobs behind one window; emits results for the views
canvas       pyqtgraph image panes with linked zoom/pan, wipe divider, flicker, overlays and a cursor readout
controls     the controls panel bound to the view state
plots        rate and visibility plots with every predictor's PW-JND and search trace
readouts     every predictor's PW-JND, the chosen one's details, the current level, compute times
dialogs      viewing-condition and shortcut dialogs
main_window  ``MainWindow``: docks, status bar, settings, drag and drop; with ``menus`` (actions and shortcuts),
             ``level_readouts`` (the level shown and the cursor) and ``exports`` (File > Export) mixed in
main         ``run_app``: the ``jndviewer`` entry point of the GUI
screenshots  ``python -m jndviewer.app.screenshots DIR``: the README's screenshots (under Xvfb)
"""
