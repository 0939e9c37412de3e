"""The package's structure: no import cycle between jndviewer modules, no module over 600 lines.

The checks use tools/import_graph.py (loaded from its file: tools/ is not a package); run that script for the full
report, the import graph folded to rooms included.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "jndviewer"
MAX_LINES = 600


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", REPO / "tools" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


import_graph = _load_tool()


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / next(iter(files)).split("/")[0]


def test_cycles_finds_components_and_ignores_self_imports_and_chains() -> None:
    graph = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},  # a -> b -> c -> a, and on to the chain
        "d": {"e"},
        "e": {"f"},
        "f": set(),
        "g": {"g"},  # a self-import is no cycle
        "h": {"i"},
        "i": {"h"},
    }
    assert import_graph.cycles(graph) == [["a", "b", "c"], ["h", "i"]]
    assert import_graph.cycles({"x": {"y"}, "y": {"z"}}) == []  # "z" appears only as a target
    assert import_graph.cycle_path(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_cycles_handles_a_long_chain_without_recursion() -> None:
    size = sys.getrecursionlimit() * 2
    chain = {f"m{i}": {f"m{i + 1}"} for i in range(size)}
    assert import_graph.cycles(chain) == []
    chain[f"m{size}"] = {"m0"}
    assert [len(component) for component in import_graph.cycles(chain)] == [size + 1]


def test_package_init_reexports_are_no_cycle_but_importing_the_own_init_is(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.sub import thing\nfrom pkg import other\nfrom . import helper\n",
            "pkg/sub.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg import anything\nelse:\n    import pkg.helper\n"
                "thing = 1\n"
                "def later():\n    from pkg.other import value\n    return value\n"
            ),
            "pkg/other.py": "value = 2\n",
            "pkg/helper.py": "import os\n",
            "pkg/inner/__init__.py": "from ..other import value\nfrom .leaf import leaf\n",
            "pkg/inner/leaf.py": "import pkg.inner\nleaf = 3\n",
        },
    )
    graph = import_graph.module_graph(root)
    assert graph == {
        "pkg": {"pkg.sub", "pkg.other", "pkg.helper"},
        "pkg.sub": {"pkg.helper", "pkg.other"},  # the TYPE_CHECKING import is left out, the function's is not
        "pkg.other": set(),
        "pkg.helper": set(),
        "pkg.inner": {"pkg.other", "pkg.inner.leaf"},
        "pkg.inner.leaf": {"pkg.inner"},  # a submodule importing its own package's __init__
    }
    assert import_graph.cycles(graph) == [["pkg.inner", "pkg.inner.leaf"]]
    assert import_graph.function_level_edges(root) == {("pkg.sub", "pkg.other")}
    assert import_graph.main(["--check", "--cycles-only", str(root)]) == 1
    assert import_graph.main([str(root)]) == 0  # a report always exits 0
    rooms = {"pkg": {"sub", "other", "helper"}, "sub": {"helper", "other"}, "other": set(), "helper": set()}
    assert import_graph.room_graph(root, graph) == {**rooms, "inner": {"other"}}  # top-level modules are rooms
    assert import_graph.line_counts(root)["pkg.sub"] == 9


def test_no_import_cycles() -> None:
    graph = import_graph.module_graph(PACKAGE)
    found = import_graph.cycles(graph)
    deferred = import_graph.function_level_edges(PACKAGE)
    lines = [f"{len(found)} import cycle(s) among jndviewer modules (~> is an import inside a function):"]
    for component in found:
        path = import_graph.format_path(import_graph.cycle_path(graph, component), deferred)
        lines.append(f"  {', '.join(component)}\n    e.g. {path}")
    assert not found, "\n".join(lines)


def test_no_module_over_600_lines() -> None:
    counts = import_graph.line_counts(PACKAGE)
    oversized = sorted(((n, m) for m, n in counts.items() if n > MAX_LINES), reverse=True)
    listing = "\n".join(f"  {module}: {count} lines" for count, module in oversized)
    assert not oversized, f"{len(oversized)} module(s) over {MAX_LINES} lines:\n{listing}"


@pytest.mark.parametrize("module", ["jndviewer.cli", "jndviewer.core.image", "jndviewer.core.codecs.folder_scan"])
def test_real_graph_knows_the_main_modules(module: str) -> None:
    assert module in import_graph.module_graph(PACKAGE)
