"""One fingerprint of what a result depends on besides its data files: the resume key.

``demo`` (:func:`cohesion_gis.pipeline.study_hash`) and ``batch``
(:func:`cohesion_gis.batch.inputs_hash`) skip a finished step only when this fingerprint is
unchanged, together with their data. It covers:

- the **effective taxonomy** (the ``Taxonomy`` the City was classified with, serialised: a user
  ``taxonomy=`` file changes it, whatever the packaged file says);
- the **effective parameters** (the parameter objects a run uses, serialised);
- the **code**: the content of every ``.py`` file of the package and of ``defaults/*.toml``,
  hashed once per process (the version string ``0.1.0`` stays the same across edits).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["code_digest", "inputs_fingerprint"]

_PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=4)
def code_digest(root: str | Path = _PACKAGE) -> str:
    """SHA-256 of the package's own ``.py`` files and ``defaults/*.toml``, by relative path.

    Parameters
    ----------
    root
        The package folder (default: this package); computed once per process and folder.
    """
    root = Path(root)
    files = sorted([*root.rglob("*.py"), *(root / "defaults").glob("*.toml")])
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a (nested) dataclass, mapping or sequence."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(repr(v) for v in value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def inputs_fingerprint(*, taxonomy: Any, params: Mapping[str, Any]) -> str:
    """SHA-256 of the effective taxonomy, the effective parameters and :func:`code_digest`.

    Parameters
    ----------
    taxonomy
        The :class:`~cohesion_gis.taxonomy.Taxonomy` in effect (``city.taxonomy``).
    params
        The parameter objects in effect, by name (dataclasses, mappings or plain values).
    """
    text = json.dumps(
        {"taxonomy": _plain(taxonomy), "params": _plain(params), "code": code_digest()},
        sort_keys=True,
        allow_nan=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()
