"""The study mode's Qt-free core: people measure their own JND, blind, and every answer is kept.

- :mod:`.model`: the records (items, conditions, trials, runs, sessions) and the screen geometry (ppd);
- :mod:`.protocols`: the protocols as small state machines (flicker adjustment, binary search, forced choice);
- :mod:`.store`: the SQLite database that never loses an answered trial;
- :mod:`.sets`: study sets (the shipped default set, one built from an image or a folder);
- :mod:`.results`: critical levels, satisfied-user-ratio curves and the comparison with the predictors;
- :mod:`.exports`: SUREAL JSON, CSV of critical points, KonJND-1k-style rows;
- :mod:`.report`: the self-contained HTML report (``jndviewer study report``);
- :mod:`.calibrate`: the training-free predictor's thresholds fitted to the answers (``calibrate --labels study:DB``);
- :mod:`.session`: the plan of a session and the runner that stores every answer, reminds of rests and resumes.

The explorer only drives these (``jndviewer.app.study``).
"""
