"""Reading parameter TOML files: the packaged defaults or a user's file, with clear errors."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from cohesion_gis.errors import ParameterError

__all__ = ["read_toml"]


def read_toml(path: Path | str | None, packaged: str) -> tuple[dict[str, Any], str]:
    """Read a TOML file, or the packaged ``cohesion_gis/defaults/<packaged>`` when ``path`` is None.

    Returns
    -------
    table, label
        The parsed table and a label naming the file, for messages.

    Raises
    ------
    ParameterError
        The file does not exist or is not valid TOML.
    """
    if path is None:
        text = resources.files("cohesion_gis.defaults").joinpath(packaged).read_text("utf-8")
        label = f"defaults/{packaged}"
    else:
        path = Path(path)
        if not path.is_file():
            raise ParameterError(
                f"{path}: no such file (it does not exist); pass the path of a TOML file laid "
                f"out like cohesion_gis/defaults/{packaged}"
            )
        text = path.read_text("utf-8")
        label = str(path)
    try:
        return tomllib.loads(text), label
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{label}: not valid TOML ({exc}); fix the syntax") from exc
