"""The import rules of ``docs/architecture.md``, checked against the code.

Every import of a ``cohesion_gis`` module by another (at the top of a file or inside a function;
type-only imports under ``if TYPE_CHECKING:`` excepted) must go down the layers of the map, no
module may import another's private names (nor reach them as ``module._name``), and no package
another's private modules. The layers are read from the page's table, so page and code agree.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import cohesion_gis

PACKAGE = Path(cohesion_gis.__file__).parent

DOC = PACKAGE.parent / "docs" / "architecture.md"


def _names(cell: str) -> list[str]:
    """The backticked module names of a table cell (``cohesion_gis/__init__`` -> ``__init__``)."""
    return [n.removeprefix("cohesion_gis/") for n in re.findall(r"`([^`]+)`", cell)]


def _map() -> tuple[list[set[str]], set[tuple[str, str]]]:
    """The layers (bottom first) and allowed sideways imports, read from the table of the map.

    The test checks the code against docs/architecture.md itself, so the page cannot drift: a
    row ``| 6 change | `scenario`, ... | job | `comparison`, `suggest` -> `scenario`; ... |``.
    """
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Modules and who may import whom", 1)[1].split("\n## ", 1)[0]
    layers, sideways = [], set()
    for row in (line for line in section.splitlines() if line.startswith("|")):
        cells = [c.strip() for c in row.strip("|").split("|")]
        if not re.match(r"\d+ ", cells[0]):
            continue
        assert int(cells[0].split()[0]) == len(layers), f"layers out of order: {row}"
        layers.append(set(_names(cells[1])))
        for rule in cells[3].split(";"):
            if "→" in rule:
                left, right = rule.split("→")
                sideways |= {(a, b) for a in _names(left) for b in _names(right)}
    return layers, sideways


LAYERS, SIDEWAYS = _map()


def test_the_map_is_read_from_the_page() -> None:
    """The table parsed as the page shows it (a guard on the parser, not on the code)."""
    assert len(LAYERS) == 9
    assert {"errors", "_toml", "params", "_city_options"} <= LAYERS[0]
    assert LAYERS[4] == {"cohesion", "hvm"} and LAYERS[8] == {"cli", "__init__"}
    assert ("pipeline", "batch") in SIDEWAYS and ("batch", "pipeline") not in SIDEWAYS
    assert ("protect", "comparison") in SIDEWAYS and ("params", "_toml") in SIDEWAYS


def test_every_module_is_on_the_map() -> None:
    """Every top-level module and subpackage of the package is in one layer of the page."""
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file())}  # fmt: skip
    placed = [u for layer in LAYERS for u in layer]
    assert len(placed) == len(set(placed)), "a module is in two layers"
    assert units == set(placed)


def _unit(module: str) -> str:
    """``cohesion_gis.hvm.routes`` -> ``hvm``; ``cohesion_gis`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports() -> list[tuple[str, str, str, list[str]]]:
    """(file, importer unit, imported module, names) of every cohesion_gis import."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(node)
            for block in tree.body
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        importer = _unit(".".join(rel.parts))
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cohesion_gis"):
                found.append((str(rel), importer, node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("cohesion_gis"):
                        found.append((str(rel), importer, alias.name, []))
    return found


def test_imports_go_down_the_layers() -> None:
    layer = {unit: k for k, units in enumerate(LAYERS) for unit in units}
    imports = _imports()
    assert len(imports) > 200
    wrong = set()
    for path, importer, module, names in imports:
        targets = [_unit(module)]
        if module == "cohesion_gis":  # from cohesion_gis import errors, __version__, ...
            targets = [n for n in names if n in layer] or ["__init__"]
        for target in targets:
            if target == importer or (importer, target) in SIDEWAYS:
                continue
            if target == "__init__" and names == ["__version__"]:
                continue
            unknown = {importer, target} - set(layer)
            assert not unknown, f"{path}: {unknown} not on the map (docs/architecture.md)"
            if layer[target] >= layer[importer]:
                wrong.add(f"{path}: {importer} (layer {layer[importer]}) imports {module}")
    assert not wrong, "imports up or sideways the layers:\n" + "\n".join(sorted(wrong))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_attributes(path: str, source: str) -> list[str]:
    """``module._name`` where ``module`` is bound to a cohesion_gis module or name in ``source``.

    ``import cohesion_gis.hvm.routes as routes; routes._split_edges(...)`` reaches a private name
    as surely as ``from cohesion_gis.hvm.routes import _split_edges``.
    """
    tree = ast.parse(source)
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cohesion_gis"):
                    bound[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cohesion_gis"):
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                found.append(f"{path}:{node.lineno}: {ast.unparse(node)} ({bound[base.id]})")
    return found


def test_no_private_names_across_modules() -> None:
    """No ``from cohesion_gis.x import _name`` and no ``x._name`` on an imported module."""
    private = [
        f"{path}: from {module} import {name}"
        for path, _, module, names in _imports()
        for name in names
        if _private(name)
    ]
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE.parent))
        private += _private_attributes(rel, path.read_text(encoding="utf-8"))
    assert not private, "private names taken from another module:\n" + "\n".join(private)
    # the rule bites on attribute access too
    probe = "import cohesion_gis.hvm.routes as routes\nroutes._split_edges(1)\n"
    assert _private_attributes("probe.py", probe) == [
        "probe.py:2: routes._split_edges (cohesion_gis.hvm.routes)"
    ]
    assert not _private_attributes("probe.py", "import numpy as np\nnp._x\n")


def _private_crossings(imports: list[tuple[str, str, str, list[str]]]) -> list[str]:
    """Imports of a subpackage's private module (``cohesion_gis.network._search``) from outside it.

    The foundations (``cohesion_gis._validate``, ...) are private to the whole package, not to a
    subpackage, so every module may import them.
    """
    crossing = []
    for path, _, module, _ in imports:
        parts = module.split(".")
        private = [k for k in range(2, len(parts)) if parts[k].startswith("_")]
        if private:
            owner = ".".join(parts[: private[0]])  # the package the private module belongs to
            if not path.replace("/", ".").startswith(owner + "."):
                crossing.append(f"{path}: imports {module} (private to {owner})")
    return crossing


def test_no_private_modules_across_packages() -> None:
    """What another package needs is public in the package (``from cohesion_gis.network import
    search_ball``), never taken from its private modules."""
    crossing = _private_crossings(_imports())
    assert not crossing, "private modules imported from another package:\n" + "\n".join(crossing)
    # the rule bites: the import hvm made of the engine's kernel module before it was public
    hvm_before = ("cohesion_gis/hvm/_routes_kernel", "hvm", "cohesion_gis.network._search", [])
    assert _private_crossings([hvm_before])
    inside = ("cohesion_gis/network/paths", "network", "cohesion_gis.network._search", [])
    assert not _private_crossings([inside])


def test_no_import_cycles() -> None:
    """No module reaches itself through imports, lazy ones (inside functions) included."""
    modules = {
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in PACKAGE.rglob("*.py")
    }
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for path, _, module, names in _imports():
        importer = path.replace("/", ".").removesuffix(".__init__")
        for target in (module, *(f"{module}.{n}" for n in names)):
            if target in modules and target != importer:
                graph[importer].add(target)
    cycles: dict[frozenset[str], str] = {}
    for start in graph:  # depth-first from every module, reporting a path back to it
        stack = [(start, (start,))]
        seen = set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.setdefault(frozenset(trail), " -> ".join((*trail, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*trail, nxt)))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles.values()))


#: scipy.sparse matrices that are not graphs, by (file, name): protect's hitting set is a MILP
#: whose constraint matrix is sparse (``scipy.optimize.milp``).
SPARSE_NOT_GRAPHS = {("cohesion_gis/protect", "csr_array")}
#: Calls that search a graph for shortest paths (scipy, networkx, osmnx names).
SEARCHES = re.compile(r"dijkstra|shortest_path|bellman_ford|johnson|floyd_warshall|astar")


def _searches_outside_the_engine(path: str, source: str) -> list[str]:
    """A graph built for scipy or searched for shortest paths in ``path``, outside ``network/``."""
    if path.startswith("cohesion_gis/network/"):
        return []
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scipy.sparse"):
            for alias in node.names:
                if "csgraph" in node.module or (path, alias.name) not in SPARSE_NOT_GRAPHS:
                    found.append(f"{path}:{node.lineno}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            found += [f"{path}:{node.lineno}: import {a.name}" for a in node.names
                      if a.name.startswith("scipy.sparse")]  # fmt: skip
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func).rsplit(".", 1)[-1]
            if SEARCHES.search(name):
                found.append(f"{path}:{node.lineno}: {ast.unparse(node.func)}(...)")
    return found


def test_every_graph_search_is_the_engines() -> None:
    """One network engine: no module outside ``network/`` builds a scipy graph or runs a
    shortest-path search (``grep -r csgraph cohesion_gis`` is empty; issue 17). Only the HVM's
    max-speed label-correcting search (``hvm/_routes_kernel.py``) is its own, and it calls no
    such function: it runs inside the horizon ``network.search_ball`` finds."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE.parent).with_suffix(""))
        found += _searches_outside_the_engine(rel, path.read_text(encoding="utf-8"))
    assert not found, "graph searches outside cohesion_gis/network:\n" + "\n".join(found)
    # the rule bites on what protect's ring did before it used node_distances
    before = (
        "from scipy.sparse import coo_array\n"
        "from scipy.sparse.csgraph import dijkstra\n"
        "dist = dijkstra(graph, directed=False, indices=seeds, min_only=True)\n"
        "path = nx.shortest_path(g, a, b)\n"
    )
    assert len(_searches_outside_the_engine("cohesion_gis/protect", before)) == 4
    assert not _searches_outside_the_engine("cohesion_gis/network/paths", before)


def _outside_all(path: str, module: str, names: list[str]) -> list[str]:
    """Names imported by ``path`` from another unit's ``module`` that its ``__all__`` lacks."""
    if module == "cohesion_gis" or _unit(module) == _unit(path.replace("/", ".")):
        return []
    target = importlib.import_module(module)
    public = set(getattr(target, "__all__", ()))
    submodules = {m.name for m in pkgutil.iter_modules(getattr(target, "__path__", []))}
    return [f"{path}: from {module} import {name}" for name in names
            if name not in public and name not in submodules]  # fmt: skip


def test_imports_across_packages_name_the_public_api() -> None:
    """Public means in the module's ``__all__``: what another package (or top-level module)
    takes from a module is declared there, so a module's seam is what its ``__all__`` lists,
    not whatever lacks a leading underscore (code-design review of f5f7634: 22 names)."""
    outside = [
        line for path, _, module, names in _imports() for line in _outside_all(path, module, names)
    ]
    assert not outside, "imports of names outside the target's __all__:\n" + "\n".join(outside)
    # the rule bites: what scenario.incremental took from hvm.assess before AssessmentSetup's
    # methods, and a name another package may take
    before = _outside_all("cohesion_gis/scenario/incremental/hvm", "cohesion_gis.hvm.assess",
                          ["resolve_setup", "AssessmentSetup", "assess_sites"])  # fmt: skip
    assert before == [
        "cohesion_gis/scenario/incremental/hvm: from cohesion_gis.hvm.assess import resolve_setup"
    ]
    assert not _outside_all("cohesion_gis/hvm/routes", "cohesion_gis.hvm.assess", ["_x"])


TESTS = PACKAGE.parent / "tests"
#: Test files that check a property across modules, not one module, with what they check.
CROSS_CUTTING = {
    "test_architecture.py": "the import rules of the whole package",
    "test_peers.py": "the engine's distances against pandana's on one graph",
    "test_real_cities.py": "whole Monaco and Malta extracts, golden summaries",
    "cohesion/test_buffer.py": "study area, buffer and inner report on real extracts",
    "cohesion/test_islands.py": "Malta's islands scored on their own networks",
    "cohesion/test_monotone.py": "a new contact space never lowers a home's value",
    "cohesion/test_taxonomy_rules.py": "which OSM features count as contact spaces",
    "hvm/test_barrier_files.py": "rated-barrier files (hvm.barriers.read_rated_barriers)",
    "maps/test_hostile_names.py": "names from strangers shown, never run, on every map",
    "maps/test_map_size.py": "the size budget of country-scale maps",
    "maps/test_map_style.py": "the maps' shared style (maps._style)",
    "maps/test_maps_browser.py": "every saved map in headless Chromium",
}


def _mismatched_tests(tests: list[Path]) -> list[str]:
    """Test files (relative to ``tests/``) that are not ``<package>/test_<module>[_<topic>].py``.

    A subpackage with its own test folder is tested there, not beside it.
    """
    wrong = []
    for rel in tests:
        source = PACKAGE.joinpath(*rel.parent.parts)
        if str(rel) in CROSS_CUTTING:
            continue
        if not (source / "__init__.py").is_file():
            wrong.append(f"tests/{rel}: no package cohesion_gis/{rel.parent}")
            continue
        units = {p.stem.lstrip("_") for p in source.glob("*.py") if p.stem != "__init__"}
        own_folder = {p.name for p in (TESTS / rel.parent).iterdir() if p.is_dir()}
        units |= {p.name for p in source.iterdir()
                  if (p / "__init__.py").is_file() and p.name not in own_folder}  # fmt: skip
        topic = rel.stem.removeprefix("test_")
        if not any(topic == unit or topic.startswith(f"{unit}_") for unit in units):
            wrong.append(f"tests/{rel}: names no module of cohesion_gis/{rel.parent}")
    return wrong


def test_tests_mirror_the_package() -> None:
    """``tests/`` mirrors the package: ``tests/hvm/test_routes.py`` tests ``hvm/routes.py``,
    ``tests/scenario/incremental/test_hvm.py`` ``scenario/incremental/hvm.py``, a topic after
    the module's name (``test_comparison_hvm.py``); cross-cutting files are listed with what
    they check."""
    found = sorted(p.relative_to(TESTS) for p in TESTS.rglob("test_*.py"))
    assert len(found) > 60
    assert not _mismatched_tests(found), "\n".join(_mismatched_tests(found))
    assert all((TESTS / name).is_file() for name in CROSS_CUTTING), "a listed file is gone"
    # the rule bites on where these files were before they moved
    before = [Path("test_hvm_comparison.py"), Path("scenario/test_incremental_hvm.py")]
    assert len(_mismatched_tests(before)) == 2


def _engine_users() -> dict[str, set[str]]:
    """Per module of ``network``, the package modules outside it importing its names."""
    init = ast.parse((PACKAGE / "network" / "__init__.py").read_text(encoding="utf-8"))
    owner = {alias.asname or alias.name: node.module.rsplit(".", 1)[-1]
             for node in init.body if isinstance(node, ast.ImportFrom) and node.module
             for alias in node.names}  # fmt: skip
    users: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
        if rel.startswith("network"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "cohesion_gis.network"
            ):
                parts = node.module.split(".")
                for alias in node.names:
                    module = parts[2] if len(parts) > 2 else owner[alias.name]
                    users.setdefault(module, set()).add(rel)
    return users


def test_the_engine_table_lists_its_users() -> None:
    """docs/architecture.md's engine table names every module that uses each engine module."""
    section = DOC.read_text(encoding="utf-8").split("## One network engine", 1)[1]
    section = section.split("\n## ", 1)[0]
    modules = {".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
               for p in PACKAGE.rglob("*.py")}  # fmt: skip
    listed: dict[str, set[str]] = {}
    for row in (line for line in section.splitlines() if line.startswith("| `network.")):
        cells = [c.strip() for c in row.strip("|").split("|")]
        engine = [n.removeprefix("network.") for n in _names(cells[0])]
        users = {n for n in _names(cells[-1]) if n in modules}
        for name in engine:
            listed[name] = users
    found = _engine_users()
    assert set(found) <= set(listed), f"engine modules missing from the table: {found.keys()}"
    for name, users in listed.items():
        extra = users - found.get(name, set())
        if name.startswith("_"):  # the kernels' row also names the modules above it
            extra -= {f"network.{m}" for m in listed} | set().union(*found.values())
        assert users >= found.get(name, set()), (name, "not listed:", found[name] - users)
        assert not extra, (name, "listed but not a user:", extra)
