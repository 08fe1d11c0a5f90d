r"""Text from data made safe to show: in a terminal, a log, a CSV cell, a map or a figure.

Names come from strangers (OSM, council files, scenario files sent by email). Characters that
are not text are replaced by ``�`` (U+FFFD) wherever such a name is shown:

- C0 and C1 control characters, DEL included: ESC (``\x1b``) starts terminal escape sequences
  that recolour, move the cursor, retitle the window or hide the text after it; NUL truncates;
- the Unicode bidirectional embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069,
  which reorder the text after them ("Trojan Source", CVE-2021-42574).

Tab and line feed are kept in multi-line text (a CSV cell, a popup); on one line (a terminal
table cell, a log message) they are replaced too, so a name cannot forge a line of output.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["clean_table", "clean_text", "is_text"]

_NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NOT_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: object, *, one_line: bool = False) -> str:
    r"""``value`` as text with control and bidi-override characters replaced by ``�``.

    Parameters
    ----------
    value
        Anything; converted with ``str``.
    one_line
        Also replace tab, line feed and carriage return (terminal and log lines).

    Examples
    --------
    >>> clean_text("evil\u202egnp.exe")
    'evil�gnp.exe'
    >>> clean_text("\x1b[2Jname\nforged line", one_line=True)
    '�[2Jname�forged line'
    """
    return (_NOT_LINE if one_line else _NOT_TEXT).sub("\ufffd", str(value))


def clean_table(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells and column names are one-line :func:`clean_text`."""
    out = pd.DataFrame(table).rename(columns=lambda c: clean_text(c, one_line=True))
    for column in out.columns:
        values = out[column]
        if is_text(values):
            out[column] = values.map(
                lambda v: clean_text(v, one_line=True) if isinstance(v, str) else v
            ).astype(object)
    return out


def is_text(values: pd.Series) -> bool:
    """Whether a column may hold text: object, string or categorical dtype."""
    return values.dtype == object or isinstance(values.dtype, (pd.StringDtype, pd.CategoricalDtype))
