"""Report jndviewer's internal import structure: the graph between "rooms", import cycles, and oversized modules.

Usage: .venv/bin/python tools/import_graph.py [PACKAGE_DIR] [--cycles-only] [--max-lines N] [--check]

Rules (standard library ``ast`` only; no module is imported or run):

* Every ``*.py`` file below the package folder (default ``jndviewer/`` next to ``tools/``) is a module; a package's
  ``__init__.py`` is the module of the package itself (``jndviewer/core/image/__init__.py`` is
  ``jndviewer.core.image``).
* An edge is an import of a module of the same package, at module level or inside a function or class. Imports
  under ``if TYPE_CHECKING:`` (their ``else:`` branch does count) are left out. Relative imports are resolved.
* ``import a.b.c`` is an edge to ``a.b.c``. ``from a.b import c`` is an edge to ``a.b.c`` when ``c`` is a submodule
  (a file or a subpackage), else to ``a.b``. A name that is no module falls back to its longest module prefix and
  is listed as unresolved.
* Only the named module counts, not the parent packages Python also initialises. So a package ``__init__`` that
  re-exports its submodules (``pkg -> pkg.sub``) is no cycle; a submodule that imports from its own package's
  ``__init__`` (``pkg.sub -> pkg``) is an edge to that ``__init__`` and closes a cycle when the ``__init__``
  imports the submodule. A module importing itself is ignored.
* A cycle is a strongly connected component of more than one module (Tarjan's algorithm, iterative).
* A room is the folder a module lies in, relative to the package (``core/pwjnd``, ``app``), or the name of a
  top-level module (``cli``); the package's own ``__init__`` is the room named like the package.

The report always exits 0; with ``--check`` it exits 1 when there is a cycle or a module over ``--max-lines``.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "jndviewer"
DEFAULT_MAX_LINES = 600


def module_files(root: Path) -> dict[str, Path]:
    """Module name -> file, for every ``*.py`` below the package folder ``root``."""
    modules: dict[str, Path] = {}
    for path in sorted(Path(root).rglob("*.py")):
        parts = (Path(root).name, *path.relative_to(root).with_suffix("").parts)
        if "__pycache__" in parts:
            continue
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, deferred: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import below ``node`` (skipping ``if TYPE_CHECKING:`` bodies), and whether it runs only in a function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, deferred
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from _imports(ast.Module(body=child.orelse, type_ignores=[]), deferred)
        else:
            in_function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from _imports(child, deferred or in_function)


def _scan(root: Path) -> tuple[dict[str, set[str]], set[tuple[str, str]], list[str]]:
    """The module graph, its edges made only inside functions, and the unresolved imports."""
    modules = module_files(root)
    top = Path(root).name
    graph: dict[str, set[str]] = {name: set() for name in modules}
    module_level: set[tuple[str, str]] = set()
    unresolved: set[str] = set()

    def resolve(name: str, module: str) -> str | None:
        if name != top and not name.startswith(top + "."):
            return None
        found = name
        while found and found not in modules:
            found = found.rpartition(".")[0]
        if not found:
            return None
        if found != name:
            unresolved.add(f"{module}: {name} (counted as {found})")
        return found

    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node, deferred in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [resolve(alias.name, module) for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else resolve(base, module))
            edges = {t for t in targets if t is not None and t != module}
            graph[module] |= edges
            module_level |= set() if deferred else {(module, t) for t in edges}
    deferred_edges = {(m, t) for m, targets in graph.items() for t in targets} - module_level
    return graph, deferred_edges, sorted(unresolved)


def module_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (see the module docstring for the rules)."""
    return _scan(root)[0]


def function_level_edges(root: Path) -> set[tuple[str, str]]:
    """The edges of :func:`module_graph` made only by imports inside functions (deferred imports)."""
    return _scan(root)[1]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node, each sorted, in sorted order (self-loops ignored)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def enter(node: str) -> tuple[str, Iterator[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        return node, iter(sorted(graph.get(node, ())))

    for start in sorted(set(graph).union(*graph.values())):
        if start in index:
            continue
        work = [enter(start)]
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    work.append(enter(successor))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest closed path through ``component[0]`` inside the component, e.g. ``[a, b, a]``."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(graph.get(node, set()) & members):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if successor not in previous:
                previous[successor] = node
                queue.append(successor)
    return component


def format_path(path: list[str], deferred: set[tuple[str, str]] | frozenset = frozenset()) -> str:
    """``a -> b ~> a``: ``~>`` for the edges in ``deferred`` (imports made only inside functions)."""
    return path[0] + "".join(f" {'~>' if (a, b) in deferred else '->'} {b}" for a, b in itertools.pairwise(path))


def line_counts(root: Path) -> dict[str, int]:
    """Module -> number of lines of its file."""
    return {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in module_files(root).items()}


def rooms(root: Path) -> dict[str, str]:
    """Module -> room: its folder relative to the package (``core/pwjnd``), or a top-level module's name (``cli``)."""
    found = {}
    for module, path in module_files(root).items():
        relative = path.relative_to(root)
        top_level = Path(root).name if relative.stem == "__init__" else relative.stem
        found[module] = relative.parent.as_posix() if relative.parent.parts else top_level
    return found


def room_graph(root: Path, graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph folded to rooms, without edges inside a room."""
    room = rooms(root)
    folded: dict[str, set[str]] = {}
    for module, targets in graph.items():
        folded.setdefault(room[module], set()).update(room[target] for target in targets)
    return {name: targets - {name} for name, targets in folded.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT, help="package folder (default jndviewer/)")
    parser.add_argument("--cycles-only", action="store_true", help="print the import cycles only")
    parser.add_argument("--max-lines", type=int, default=DEFAULT_MAX_LINES, help="largest module size (lines)")
    parser.add_argument("--check", action="store_true", help="exit 1 on a cycle or an oversized module")
    args = parser.parse_args(argv)
    graph, deferred, unresolved = _scan(args.root)
    found = cycles(graph)
    oversized = {m: n for m, n in line_counts(args.root).items() if n > args.max_lines}
    if not args.cycles_only:
        print(f"Import graph by room ({len(graph)} modules):")
        for name, targets in sorted(room_graph(args.root, graph).items()):
            print(f"  {name} -> {', '.join(sorted(targets))}".rstrip())
    print(f"Import cycles: {len(found) or 'none'}")
    for component in found:
        print(f"  {', '.join(component)}\n    e.g. {format_path(cycle_path(graph, component), deferred)}")
    if found:
        print("  (~> marks an import made only inside a function)")
    if not args.cycles_only:
        print(f"Modules over {args.max_lines} lines: {len(oversized) or 'none'}")
        for module, count in sorted(oversized.items(), key=lambda item: -item[1]):
            print(f"  {module}: {count}")
        for line in unresolved:
            print(f"Unresolved import in {line}")
    return 1 if args.check and (found or oversized) else 0


if __name__ == "__main__":
    sys.exit(main())
