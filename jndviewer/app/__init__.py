"""The desktop explorer (PySide6 + pyqtgraph): windows, views, panels and workers.

Everything here only *calls* :mod:`jndviewer.core` (the same functions the CLI uses) and adds threads and pixels.
Nothing in ``jndviewer.core`` imports this package, and torch is imported lazily (inside workers), so the window can
appear before torch is loaded.

Modules
-------
modes        the comparison modes (one enum with keys, labels and tooltips)
state        ``ViewState``: the observable view model (image, codec, level, mode, ...) that widgets bind to
workers      cancellable QThreadPool jobs with generation counters (stale results are dropped)
compute      Qt-free helpers run by the workers (JND maps, visibility, viewing condition, export)
session      ``Session``: image, ladder, maps and jobs behind one window; emits results for the views
canvas       pyqtgraph image panes with linked zoom/pan, wipe divider, flicker, overlays and a cursor readout
panels       controls, plots and readouts
dialogs      viewing-condition and shortcut dialogs
main_window  ``MainWindow``: menus, toolbar, docks, status bar, settings, drag and drop
main         ``run_app``: the ``jndviewer`` entry point of the GUI
screenshots  ``python -m jndviewer.app.screenshots DIR``: the README's screenshots (under Xvfb)
"""
