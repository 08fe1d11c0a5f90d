"""Build the API reference, a static site, from the package's numpydoc docstrings (pdoc).

    python docs/build_api.py site        # then open site/index.html (no internet needed)

``make docs`` runs this into ``site/`` (git-ignored) and CI runs ``make docs``. Every public
module is documented (a package's ``__all__`` would otherwise hide its submodules), private ones
(``_name``) are left out. Any warning pdoc gives (a module that fails to import, a docstring it
cannot convert) stops the build with exit status 1. Sphinx's ``:class:`~a.b.C``` short form is
read as ``:class:`a.b.C``` (pdoc links the full name) rather than shown with its tilde; reST
simple tables become Markdown tables (pdoc ran them together into one paragraph). Formulas
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


def simple_tables(docstring: str) -> str:
    """Simple reST tables (``====  ====`` borders) as Markdown tables, which pdoc renders.

    A row whose first cell is empty continues the row above it.
    """
    border = re.compile(r"^(\s*)=+(?: +=+)+\s*$")
    lines, out, i = docstring.split("\n"), [], 0
    while i < len(lines):
        if not border.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        edges = [(m.start(), m.end()) for m in re.finditer(r"=+", lines[i])]
        cuts = [start for start, _ in edges[1:]]

        def cells(line: str, cuts: list[int] = cuts) -> list[str]:
            bounds = zip([0, *cuts], [*cuts, len(line)], strict=True)
            return [line[a:b].strip() for a, b in bounds]

        rows: list[list[str]] = []
        separators = 0
        i += 1
        while i < len(lines) and separators < 2:
            if border.match(lines[i]):
                separators += 1
            elif lines[i].strip():
                row = cells(lines[i])
                if row[0] or not rows:
                    rows.append(row)
                else:
                    rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], row, strict=True)]
            i += 1
        indent = border.match(lines[i - 1]).group(1) if separators == 2 else ""
        header, *body = rows
        out += [indent + "| " + " | ".join(header) + " |"]
        out += [indent + "|" + "---|" * len(header)]
        out += [indent + "| " + " | ".join(row) + " |" for row in body]
    return "\n".join(out)


def build(out_dir: Path) -> None:
    """Write the site into ``out_dir``; raise on any pdoc warning."""
    import pdoc
    import pdoc.docstrings

    convert = pdoc.docstrings.convert

    def prepared(docstring: str, docformat: str, source_file: Path | None) -> str:
        docstring = simple_tables(math_to_mathml(re.sub(r"(:[a-z]+:`)~", r"\1", docstring)))
        return convert(docstring, docformat, source_file)

    pdoc.docstrings.convert = prepared
    pdoc.render.configure(
        docformat="numpy",
        show_source=False,
        footer_text="cohesion_gis API reference",
        search=True,
    )
    modules = public_modules()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)
        # each module is named once, but a package's walk adds the submodules in its __all__ again
        warnings.filterwarnings("ignore", message="The module specification", category=UserWarning)
        pdoc.pdoc(*modules, output_directory=out_dir)
    write_index(modules, out_dir / "index.html")


def write_index(modules: list[str], path: Path) -> None:
    """The site's front page: every module with the first line of its docstring.

    pdoc's own index redirects to the package page, whose ``__all__`` lists only ``batch``.
    """
    import html

    items = []
    for name in modules:
        doc = (sys.modules[name].__doc__ or "").strip().split("\n")[0]
        doc = re.sub(r":[a-z]+:`~?([^`]+)`", r"``\1``", doc)  # roles read as code
        summary = re.sub(r"``([^`]+)``", r"<code>\1</code>", html.escape(doc))
        depth = name.count(".")
        href = name.replace(".", "/") + ".html"
        items.append(
            f'<li style="margin-left:{1.5 * depth}em"><a href="{href}"><code>{name}</code></a>'
            f" {summary}</li>"
        )
    path.write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>cohesion_gis API reference</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;"
        "padding:0 1em}li{list-style:none;margin:.2em 0}a{color:#1f4e99}</style></head>"
        "<body><h1>cohesion_gis API reference</h1>"
        "<p>Generated from the docstrings (<code>make docs</code>). The everyday functions are "
        '<a href="cohesion_gis.html">re-exported by <code>cohesion_gis</code></a>; '
        "each module below documents its own.</p><ul>" + "".join(items) + "</ul></body></html>\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "site"))
