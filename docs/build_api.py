"""Build the API reference, a static site, from the package's numpydoc docstrings (pdoc).

    python docs/build_api.py site        # then open site/index.html (no internet needed)

``make docs`` runs this into ``site/`` (git-ignored) and CI runs ``make docs``. Every public
module is documented (a package's ``__all__`` would otherwise hide its submodules), private ones
(``_name``) are left out. Any warning pdoc gives (a module that fails to import, a docstring it
cannot convert) stops the build with exit status 1. Sphinx's ``:class:`~a.b.C``` short form is
read as ``:class:`a.b.C``` (pdoc links the full name) rather than shown with its tilde. Formulas
(``.. math::``, ``:math:``) become MathML (latex2mathml), which the browser draws with no script
and no internet; pdoc's own ``--math`` would load MathJax from the web.
"""

from __future__ import annotations

import pkgutil
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def public_modules(package: str = "cohesion_gis") -> list[str]:
    """Names of the package and every submodule whose dotted name has no ``_`` part."""
    sys.path.insert(0, str(ROOT))
    module = __import__(package)
    found = [package]
    for info in pkgutil.walk_packages(module.__path__, f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return sorted(found)


def math_to_mathml(docstring: str) -> str:
    """Formulas (``.. math::`` blocks, ``:math:`` roles) as MathML, which browsers draw offline.

    A formula latex2mathml cannot read is kept as its LaTeX source in a code block.
    """
    from latex2mathml.converter import convert as to_mathml

    def formula(latex: str, display: str) -> str:
        try:
            return to_mathml(latex, display=display)
        except Exception:  # any parse failure: show the source instead
            return f"`{latex}`" if display == "inline" else f"\n```latex\n{latex}\n```\n"

    lines, out, i = docstring.split("\n"), [], 0
    while i < len(lines):
        start = re.match(r"^(\s*)\.\. math::(.*)$", lines[i])
        i += 1
        if not start:
            out.append(lines[i - 1])
            continue
        indent, body = len(start.group(1)), [start.group(2)]
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            body.append(lines[i])
            i += 1
        latex = " ".join(line.strip() for line in body if line.strip())
        out += ["", start.group(1) + formula(latex, "block"), ""]
    return re.sub(r":math:`([^`]+)`", lambda m: formula(m.group(1), "inline"), "\n".join(out))


def build(out_dir: Path) -> None:
    """Write the site into ``out_dir``; raise on any pdoc warning."""
    import pdoc
    import pdoc.docstrings

    convert = pdoc.docstrings.convert

    def prepared(docstring: str, docformat: str, source_file: Path | None) -> str:
        docstring = math_to_mathml(re.sub(r"(:[a-z]+:`)~", r"\1", docstring))
        return convert(docstring, docformat, source_file)

    pdoc.docstrings.convert = prepared
    pdoc.render.configure(
        docformat="numpy",
        show_source=False,
        footer_text="cohesion_gis API reference",
        search=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)
        # each module is named once, but a package's walk adds the submodules in its __all__ again
        warnings.filterwarnings("ignore", message="The module specification", category=UserWarning)
        pdoc.pdoc(*public_modules(), output_directory=out_dir)


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "site"))
