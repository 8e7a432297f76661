"""Reading a file a caller names: only regular files, of bounded size, every failure an :class:`InvalidInput`.

A tool argument can name anything: a directory, ``/dev/zero`` (endless), a FIFO (``open`` blocks until someone writes),
a symlink loop, a path with a NUL byte (``ValueError`` from the OS layer) or a file without read permission. Each
becomes an error that names the field, decided from ``os.stat`` *before* the file is opened.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import InvalidInput, MalformedFile
from ._confined import open_path

__all__ = [
    "MAX_FILE_BYTES",
    "check_output_file",
    "open_user_file",
    "read_user_file",
    "read_user_text",
    "user_path",
    "write_errors",
]

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
MAX_FILE_BYTES = 512 * 1024**2
"""Largest data file read whole: 512 MiB holds ~10^7 rows of a voltammogram export (~50 bytes a row)."""


def user_path(value: str | os.PathLike[str], *, field: str = "path") -> Path:
    """``value`` as a path with ``~`` / ``~user`` expanded; an unknown user (``~0``) or a NUL byte is an error
    naming ``field``."""
    if "\x00" in os.fspath(value):  # '~name\x00...' would reach the user database lookup: ValueError
        raise InvalidInput(field, "a path cannot contain a NUL byte (\\x00)")
    try:
        return Path(value).expanduser()
    except RuntimeError as err:  # pathlib: "Could not determine home directory"
        raise InvalidInput(field, f"cannot expand {str(value)[:200]!r}: {err}") from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _stat(path: str | os.PathLike[str], field: str, verb: str) -> os.stat_result | None:
    """``os.stat`` (symlinks followed), or None if nothing is there; a NUL byte or another OS error names ``field``."""
    if "\x00" in str(path):
        raise InvalidInput(field, "a path cannot contain a NUL byte (\\x00)")
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as err:  # a symlink loop, a name too long, a file component used as a folder, no permission
        raise MalformedFile(str(path), f"cannot {verb}: {err.strerror or err}", field=field) from None


def open_user_file(path: str | os.PathLike[str], *, field: str = "path", max_bytes: int | None = None) -> BinaryIO:
    """The regular file at ``path`` opened for binary reading (symlinks followed, except on a confined path: see
    :mod:`labwright.tools._confined`); what was opened is checked again, so a file swapped in after the check is
    refused too.

    Raises
    ------
    MalformedFile
        (an :class:`InvalidInput` for ``field``) the path does not exist, is not a regular file, cannot be read, or
        holds more than ``max_bytes`` (when given).
    InvalidInput
        The path contains a NUL byte, or a symlink was swapped into a confined path.
    """
    shown = str(path)
    info = _stat(path, field, "read")
    if info is None:
        raise MalformedFile(shown, "cannot read: file not found", field=field)
    _check_readable(info, shown, field, max_bytes)  # before opening: a FIFO or a device is never opened
    try:
        # O_NONBLOCK: a FIFO swapped in after the check opens at once and is refused below, never blocks.
        fh = os.fdopen(open_path(path, _READ_FLAGS, field=field), "rb")
    except OSError as err:
        raise MalformedFile(shown, f"cannot read: {err.strerror or err}", field=field) from None
    try:
        _check_readable(os.fstat(fh.fileno()), shown, field, max_bytes)  # what was opened, not what was checked
    except BaseException:
        fh.close()
        raise
    return fh


def _check_readable(info: os.stat_result, shown: str, field: str, max_bytes: int | None) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise MalformedFile(shown, f"cannot read: {_kind(info.st_mode)}, not a data file", field=field)
    if max_bytes is not None and info.st_size > max_bytes:
        raise MalformedFile(
            shown, f"cannot read: {info.st_size:,} bytes, over the {max_bytes:,}-byte limit", field=field
        )


def read_user_file(
    path: str | os.PathLike[str], *, field: str = "path", max_bytes: int = MAX_FILE_BYTES, head: int | None = None
) -> bytes:
    """The bytes of the regular file at ``path`` (see :func:`open_user_file`); only its first ``head`` bytes if given.

    Raises
    ------
    MalformedFile
        (an :class:`InvalidInput` for ``field``) the path does not exist, is not a regular file, cannot be read, or
        holds more than ``max_bytes``.
    InvalidInput
        The path contains a NUL byte.
    """
    with open_user_file(path, field=field, max_bytes=None if head is not None else max_bytes) as fh:
        try:
            return fh.read(max_bytes if head is None else head)
        except OSError as err:
            raise MalformedFile(str(path), f"cannot read: {err.strerror or err}", field=field) from None


def read_user_text(path: str | os.PathLike[str], *, field: str = "path", max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of the regular file at ``path``; a binary or otherwise undecodable file is a MalformedFile."""
    raw = read_user_file(path, field=field, max_bytes=max_bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise MalformedFile(str(path), f"not UTF-8 text (byte {err.start}: {err.reason})", field=field) from None


class write_errors(contextlib.ContextDecorator):
    """Context manager and decorator: an ``OSError`` while writing a file the caller named (a folder that cannot be
    made, a symlink loop, a read-only place, a full disk) becomes an :class:`InvalidInput` for ``field``.

    Only errors of writing are converted, and only where a caller-named path is written; nothing else is caught.
    """

    def __init__(self, field: str):
        self.field = field

    def __enter__(self) -> write_errors:
        return self

    def __exit__(self, kind, err, tb) -> bool:
        if isinstance(err, OSError):
            where = f" {err.filename}" if err.filename else ""
            raise InvalidInput(self.field, f"cannot write{where}: {err.strerror or err}") from None
        return False


def check_output_file(path: str | os.PathLike[str], *, field: str = "path") -> Path:
    """``path`` as a :class:`Path` if a file may be written there: absent, or an existing regular file.

    Writers replace their output atomically (``os.replace``), which would swap a device node or a FIFO for a plain
    file (as root, ``/dev/zero`` once became a JSON export) and fails on a directory; such targets are refused.
    """
    shown = str(path)
    info = _stat(path, field, "write")
    if info is None:
        return Path(path)
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(field, f"cannot write {shown}: it is {_kind(info.st_mode)}")
    return Path(path)
