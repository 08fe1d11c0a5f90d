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
        The file does not exist, cannot be read, is not UTF-8 or is not valid TOML.
    """
    if path is None:
        text = resources.files("cohesion_gis.defaults").joinpath(packaged).read_text("utf-8")
        label = f"defaults/{packaged}"
    else:
        path = Path(path)
        if not path.is_file():
            what = (
                "is a folder, not a file" if path.is_dir() else "no such file (it does not exist)"
            )
            raise ParameterError(
                f"{path}: {what}; pass the path of a TOML file laid "
                f"out like cohesion_gis/defaults/{packaged}"
            )
        label = str(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParameterError(
                f"{label}: not UTF-8 text (byte {exc.start}: {exc.reason}); TOML files must be "
                "UTF-8: save the file as UTF-8 in your editor"
            ) from exc
        except OSError as exc:
            raise ParameterError(
                f"{label}: cannot be read ({exc.strerror}); check its permissions"
            ) from exc
    try:
        return tomllib.loads(text), label
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{label}: not valid TOML ({exc}); fix the syntax") from exc
