"""Reading TOML files (packaged defaults, user parameters, scenarios) with clear errors."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from cohesion_gis.errors import CohesionError, ParameterError

__all__ = ["read_toml", "read_toml_file"]


def read_toml(path: Path | str | None, packaged: str) -> tuple[dict[str, Any], str]:
    """Read a TOML file, or the packaged ``cohesion_gis/defaults/<packaged>`` when ``path`` is None.

    Returns
    -------
    table, label
        The parsed table and a label naming the file, for messages.

    Raises
    ------
    ParameterError
        The file does not exist, cannot be read, is not UTF-8 or is not valid TOML.
    """
    if path is None:
        text = resources.files("cohesion_gis.defaults").joinpath(packaged).read_text("utf-8")
        label = f"defaults/{packaged}"
        return _parse(text, label, ParameterError), label
    what = f"a TOML file laid out like cohesion_gis/defaults/{packaged}"
    return read_toml_file(path, ParameterError, what=what), str(path)


def read_toml_file(path: Path | str, error: type[CohesionError], *, what: str) -> dict[str, Any]:
    """Parse a user's TOML file; every failure is one ``error`` naming the file and what to do.

    Parameters
    ----------
    path
        The file.
    error
        The exception raised (``ParameterError`` for parameters, ``ScenarioError`` for
        scenarios).
    what
        What the file should be, for the message ("a scenario .toml file").

    Raises
    ------
    CohesionError
        ``error``: the file does not exist or is a folder, cannot be read, is not UTF-8 or is
        not valid TOML.
    """
    path = Path(path)
    if not path.is_file():
        state = "is a folder, not a file" if path.is_dir() else "no such file (it does not exist)"
        raise error(f"{path}: {state}; pass the path of {what}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); TOML files must be "
            "UTF-8: save the file as UTF-8 in your editor"
        ) from exc
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    return _parse(text, str(path), error)


def _parse(text: str, label: str, error: type[CohesionError]) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{label}: not valid TOML ({exc}); fix the syntax") from exc
