"""Copy the colour-map tables jndviewer ships from an installed pyqtgraph (run once; output is committed).

The tables are data, not code: viridis and inferno are CC0 (S. van der Walt, N. Smith), CET-D1A is CC-BY 4.0
(P. Kovesi, "Good colour maps: how to design them", arXiv:1509.03700). The core reads them without importing Qt.
Usage: .venv/bin/python tools/make_colormaps.py
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

TABLES = {"viridis": "viridis.csv", "inferno": "inferno.csv", "diverging": "CET-D1A.csv"}


def main() -> None:
    spec = importlib.util.find_spec("pyqtgraph")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pyqtgraph is not installed in this environment.")
    source = Path(next(iter(spec.submodule_search_locations))) / "colors" / "maps"
    target = Path(__file__).resolve().parents[1] / "jndviewer" / "assets" / "colormaps"
    target.mkdir(parents=True, exist_ok=True)
    for name, filename in TABLES.items():
        rows = [line for line in (source / filename).read_text().splitlines() if line and not line.startswith(";")]
        table = np.array([[float(v) for v in line.split(",")[:3]] for line in rows])
        if len(table) != 256:  # resample to 256 entries
            positions = np.linspace(0, len(table) - 1, 256)
            table = np.stack([np.interp(positions, np.arange(len(table)), table[:, c]) for c in range(3)], 1)
        np.savetxt(target / f"{name}.csv", table, fmt="%.5f", delimiter=",", header=f"{name} from pyqtgraph {filename}")
        print(f"wrote {target / (name + '.csv')} ({len(table)} entries)")


if __name__ == "__main__":
    main()
