"""The import rules of ``docs/architecture.md``, checked against the code.

Every import of a ``cohesion_gis`` module by another (at the top of a file or inside a function;
type-only imports under ``if TYPE_CHECKING:`` excepted) must go down the layers of the map, no
module may import another's private names, and no package another's private modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cohesion_gis

PACKAGE = Path(cohesion_gis.__file__).parent

#: Layers of docs/architecture.md, bottom first (top-level module or subpackage names).
LAYERS = (
    {"errors", "_toml", "_validate", "_atomic", "_fingerprint", "_text", "_gc", "params",
     "_city_options"},
    {"taxonomy", "network", "sources", "maps"},
    {"streets", "layers"},
    {"city", "read"},
    {"cohesion", "hvm"},
    {"export"},
    {"scenario", "comparison", "suggest", "protect"},
    {"batch", "pipeline"},
    {"cli", "__init__"},
)  # fmt: skip
#: Imports within a layer that the map allows (importer, imported).
SIDEWAYS = {("_toml", "errors"), ("_validate", "errors"), ("_atomic", "errors"),
            ("params", "_toml"), ("layers", "streets"), ("read", "city"),
            ("comparison", "scenario"),
            ("suggest", "scenario"), ("protect", "scenario"), ("protect", "comparison"),
            ("pipeline", "batch")}  # fmt: skip


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


def test_no_private_names_across_modules() -> None:
    private = [
        f"{path}: from {module} import {name}"
        for path, _, module, names in _imports()
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not private


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
