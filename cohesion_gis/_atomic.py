"""Writing outputs all or nothing, with the user's permissions.

One file: :func:`atomic_path` yields a hidden temporary sibling; when the writer is done it
replaces the target by one rename, so a reader never sees half a file. Several files:
:func:`staged_files` yields a hidden staging folder inside the output folder; when every file is
written they replace their targets together (a failed move puts the old files back). A whole
folder: :func:`staged_folder` yields a hidden sibling that replaces it by one rename.

- **Checked first.** :func:`check_outputs` runs before any computation: the output folder can be
  created and written (a probe folder is made and removed), no output name is an existing folder,
  and no output exists unless ``overwrite``.
- **Permissions.** Temporary files and folders are created by the writers themselves (plain
  ``open``, GDAL, ``mkdir``), so the user's umask applies (``rw-r--r--`` with the usual 022),
  not the ``rw-------`` of :func:`tempfile.mkstemp`; colleagues on a shared drive can read them.
- **Leftovers.** Temporary names carry the host and process id
  (``.<name>.<host>-<pid>-<random>.tmp<suffix>``); a process killed with SIGKILL leaves them,
  and the next write into the same folder on the same host removes those whose process is gone
  (on POSIX systems; on Windows they stay, hidden).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path

from cohesion_gis.errors import InputError, listing

__all__ = [
    "atomic_path",
    "check_outputs",
    "check_run_folder",
    "clean_stale",
    "refuse_existing",
    "staged_files",
    "staged_folder",
]

log = logging.getLogger(__name__)

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_TEMP = re.compile(r"^\..*\.(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[0-9a-f]{8}\.tmp(\.[^.]*)?$")


def _temp_sibling(path: Path) -> Path:
    """A hidden name beside ``path`` that no other writer uses (not created)."""
    token = f"{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.name}.{token}.tmp{path.suffix}")


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) sends CTRL_C_EVENT on Windows: never probe there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_stale(folder: str | Path) -> list[Path]:
    """Remove temporary files and folders left in ``folder`` by killed processes of this host.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError, PermissionError):
        for entry in Path(folder).iterdir():
            match = _TEMP.match(entry.name)
            if match and match["host"] == _HOST and not _alive(int(match["pid"])):
                _remove(entry)
                removed.append(entry)
    if removed:
        log.info("%s: removed %d leftover temporary files", folder, len(removed))
    return removed


def refuse_existing(*paths: str | Path, overwrite: bool) -> None:
    """Raise InputError if an output name is a folder, or exists and ``overwrite`` is False."""
    outputs = [Path(p) for p in paths]
    folders = [p for p in outputs if p.is_dir()]
    if folders:
        raise InputError(
            f"{listing(folders)}: output name is a folder; move or rename it, or write "
            "elsewhere (CLI: --out)"
        )
    existing = [p for p in outputs if p.exists()]
    if existing and not overwrite:
        verb = "exists" if len(existing) == 1 else "exist"
        raise InputError(
            f"{listing(existing)} {verb}; pass overwrite=True (CLI: --overwrite) to replace"
        )


def _make_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output folder {folder} is a file; give a folder (CLI: --out)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create output folder {folder} ({exc.strerror}); choose another (CLI: --out)"
        ) from exc


def check_outputs(folder: str | Path, names: Iterable[str], *, overwrite: bool) -> None:
    """Check, before computing, that ``names`` can be written into ``folder``.

    The folder is created if needed and a probe folder is made in it and removed (the only
    reliable test: permissions, read-only mounts, quotas, root).

    Raises
    ------
    InputError
        The folder cannot be created or written, an output name is a folder, or an output exists
        and ``overwrite`` is False.
    """
    folder = Path(folder)
    _make_folder(folder)
    probe = _temp_sibling(folder / "write-test")
    try:
        probe.mkdir()
    except OSError as exc:
        raise InputError(
            f"output folder {folder} is not writable ({exc.strerror}); fix its permissions or "
            "choose another (CLI: --out)"
        ) from exc
    probe.rmdir()
    refuse_existing(*(folder / name for name in names), overwrite=overwrite)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; on success it replaces ``path``.

    The temporary file is not created: the writer creates it (GDAL insists), with the user's
    umask. On an exception it is removed and ``path`` is left as it was.

    Raises
    ------
    InputError
        ``path`` is a folder, or exists and ``overwrite`` is False.
    """
    path = Path(path)
    refuse_existing(path, overwrite=overwrite)
    _make_folder(path.parent)
    clean_stale(path.parent)
    tmp = _temp_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        _remove(tmp)


@contextlib.contextmanager
def staged_files(folder: str | Path, names: Iterable[str], *, overwrite: bool) -> Iterator[Path]:
    """Yield a staging folder; the files written there replace ``folder/<name>`` together.

    Parameters
    ----------
    folder
        The output folder (created).
    names
        Every name the caller may write, in the order they are moved into place (put the file
        that marks a finished run last). A name written but not listed is an error.
    overwrite
        Replace existing outputs.

    Raises
    ------
    InputError
        As :func:`check_outputs`.
    """
    folder = Path(folder)
    names = list(names)
    check_outputs(folder, names, overwrite=overwrite)
    clean_stale(folder)
    stage = _temp_sibling(folder / "staging")
    stage.mkdir()
    try:
        yield stage
        written = {p.name for p in stage.iterdir()}
        unlisted = sorted(written - set(names))
        if unlisted:
            raise RuntimeError(f"{folder}: wrote undeclared outputs {unlisted}")
        _commit(stage, folder, [n for n in names if n in written], overwrite=overwrite)
    finally:
        _remove(stage)


def _commit(stage: Path, folder: Path, names: list[str], *, overwrite: bool) -> None:
    """Move ``stage/<name>`` onto ``folder/<name>``; on any failure put every old file back."""
    refuse_existing(*(folder / n for n in names), overwrite=overwrite)  # the world may have moved
    old = stage / ".old"
    old.mkdir()
    moved: list[tuple[Path, Path | None]] = []
    try:
        for name in names:
            target, backup = folder / name, None
            if target.exists():
                backup = old / name
                os.replace(target, backup)
            moved.append((target, backup))
            os.replace(stage / name, target)
    except BaseException:
        for target, backup in reversed(moved):
            _remove(target)
            if backup is not None and backup.exists():
                os.replace(backup, target)
        raise


@contextlib.contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """Yield a hidden folder beside ``target``; when done it replaces ``target`` whole.

    A reader sees the old folder or the finished new one, never a half-written one. On an
    exception the new folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} is a file, not an output folder; move or rename it")
    _make_folder(target.parent)
    clean_stale(target.parent)
    stage = _temp_sibling(target)
    stage.mkdir()
    try:
        yield stage
        backup = _temp_sibling(target) if target.exists() else None
        if backup is not None:
            os.replace(target, backup)
        try:
            os.replace(stage, target)
        except BaseException:
            if backup is not None:
                os.replace(backup, target)
            raise
        if backup is not None:
            _remove(backup)
    finally:
        _remove(stage)


def check_run_folder(folder: str | Path, own: Iterable[str], *, overwrite: bool) -> None:
    """Check, before computing, that a run may replace ``folder`` whole (see :func:`staged_folder`).

    ``folder`` may be missing or empty; if it holds a previous run (only names in ``own``), it is
    replaced with ``overwrite``; a folder holding anything else is never replaced.

    Raises
    ------
    InputError
        ``folder`` is a file, holds files of something else, holds a previous run and
        ``overwrite`` is False, or its parent is not writable.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not an output folder; move it or choose another")
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    foreign = [n for n in present if n not in set(own) and not n.startswith(".")]
    if foreign:
        raise InputError(
            f"{folder} holds other files ({', '.join(foreign[:3])}...); a run replaces its "
            "folder whole, so give an empty or new folder (CLI: --out)"
        )
    if present and not overwrite:
        raise InputError(
            f"{folder} holds a previous run; pass overwrite=True (CLI: --overwrite) to replace it"
        )
    check_outputs(folder.parent, [], overwrite=True)
