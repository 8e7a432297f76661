"""Opening a confined path without a race: no symlink can be swapped in between the policy check and the open.

The policy gate (:func:`labwright.tools._paths.confine_args`) resolves every path a governed call names and checks
it lies where the call may go; the tool opens it later, possibly in another process. Whoever can write inside an
allowed folder could, in between, replace a folder on that path (or the file itself) with a symlink to
``/etc`` or to the audit log, and a plain ``open`` would follow it.

The paths the gate passed are fully resolved: at check time none of their components was a symlink. So in a
governed call (:func:`labwright.metering.current_call` lists the paths the gate confined) a file under one of them is
opened by walking from ``/`` one component at a time with ``O_NOFOLLOW`` and ``dir_fd`` (``openat``): a symlink met
anywhere on the way fails with ``ELOOP`` instead of being followed, and the file opened is exactly the one the gate
checked. (Linux ``openat2(RESOLVE_BENEATH)`` would do the same in one call, but Python does not expose it.) Writes
create the temporary file and rename it inside the same directory descriptor. Outside a governed call nothing was
checked, so paths are opened as given (symlinks followed), as a Python user expects.

SQLite opens its database files by name itself (knowledge stores), also later on (the ``-wal`` and ``-shm``
companions at a connection's first read, a ``-journal`` at a write), so :func:`open_sqlite` makes sure no one else
can swap anything on the way and checks around the open: every folder on the path must be one only this user (or
root) can change (owner, and not writable by others unless sticky, like ``/tmp``); the file and its companions are
looked at from the checked folder without following links (a link there is refused); a new store file is created
there first; and once SQLite has opened the database, the descriptor it got must be that same file (device and inode,
read from ``/proc/self/fd``), else the connection is closed before any statement runs. A process of the *same* user
that swaps a folder while a store is open can still redirect the companion files; see the README's "Security model".
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..metering import current_call

__all__ = ["is_confined", "open_path", "write_file", "save_figure", "open_sqlite"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def is_confined(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is, or lies under, a path the current governed call's gate confined."""
    scope = current_call()
    if scope is None or not scope.confined:
        return False
    p = os.path.abspath(path)
    return any(p == c or p.startswith(c.rstrip(os.sep) + os.sep) for c in scope.confined)


def _swapped(path: str, field: str, err: OSError) -> InvalidInput:
    return InvalidInput(
        field, f"{path} changed while it was opened (a symlink appeared on its path: {err.strerror}); nothing was done"
    )


@contextlib.contextmanager
def _parent_fd(
    path: str, field: str, *, create: bool, inspect: Callable[[int, str], None] | None = None
) -> Iterator[tuple[int, str]]:
    """``(descriptor of path's folder, path's last name)``, reached from ``/`` without following any symlink;
    ``create`` makes missing folders on the way (mode 0o777 less the umask, like ``mkdir -p``); ``inspect(fd, folder)``
    is called on every folder on the way, ``/`` and the last one included."""
    parts = Path(os.path.abspath(path)).parts
    if len(parts) < 2:
        raise InvalidInput(field, f"{path!r} names no file")
    fd = os.open(parts[0], _DIR_FLAGS)
    try:
        if inspect is not None:
            inspect(fd, parts[0])
        for k, name in enumerate(parts[1:-1], start=2):
            try:
                nxt = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):  # made meanwhile by another writer: walk into it
                    os.mkdir(name, dir_fd=fd)
                nxt = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _swapped(path, field, err) from None
                raise
            os.close(fd)
            fd = nxt
            if inspect is not None:
                inspect(fd, os.path.join(*parts[:k]))
        yield fd, parts[-1]
    finally:
        os.close(fd)


def open_path(path: str | os.PathLike[str], flags: int, mode: int = 0o666, *, field: str = "path") -> int:
    """``os.open(path, flags, mode)``, but without following any symlink when ``path`` is confined (see module).

    Raises
    ------
    InvalidInput
        A symlink was met on a confined path (it was swapped in after the check).
    OSError
        As ``os.open`` (no such file, permission, ...).
    """
    path = os.fspath(path)
    if not is_confined(path):
        return os.open(path, flags, mode)
    with _parent_fd(path, field, create=False) as (folder, name):
        try:
            return os.open(name, flags | _NOFOLLOW, mode, dir_fd=folder)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise _swapped(path, field, err) from None
            raise


def write_file(path: str | os.PathLike[str], data: bytes, *, field: str = "path") -> Path:
    """Replace the file at ``path`` with ``data`` atomically (a temporary file beside it, then a rename), making
    missing folders; a confined ``path`` is reached without following symlinks, and the rename happens inside the
    folder that was checked. A failure leaves no temporary file behind."""
    path = os.fspath(path)
    if not is_confined(path):
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "xb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target
    with _parent_fd(path, field, create=True) as (folder, name):
        tmp = f".{name}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644, dir_fd=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            # rename() replaces a symlink at ``name`` itself, never the file it points to.
            os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
            raise
    return Path(path)


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 120, field: str = "plot_path") -> bytes:
    """Render the matplotlib figure ``fig`` as PNG, write it to ``path`` with :func:`write_file`; return the PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    write_file(path, buf.getvalue(), field=field)
    return buf.getvalue()


# Store opens in this process take turns, so that the descriptor a connection adds is told apart from the others.
_SQLITE_OPEN = threading.Lock()
_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _open_files() -> set[tuple[int, int, int]] | None:
    """``(descriptor, device, inode)`` of this process's open files; ``None`` where ``/proc`` is missing."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return None
    out = set()
    for name in names:
        with contextlib.suppress(OSError, ValueError):  # closed meanwhile
            st = os.stat(f"/proc/self/fd/{name}")
            out.add((int(name), st.st_dev, st.st_ino))
    return out


def open_sqlite(
    path: str | os.PathLike[str], connect: Callable[[], Any], *, readonly: bool, field: str = "store_path"
) -> Any | None:
    """``connect()`` (which must open ``path`` and run no statement), checked as the module describes when ``path``
    is confined; ``None`` when ``readonly`` and there is no such file (nothing is created).

    Raises
    ------
    InvalidInput
        A symlink on the path or in place of the store or a companion file, a store that is not a regular file, or
        a database SQLite opened that is not the file that was checked.
    """
    path = os.fspath(path)
    if not is_confined(path):
        return connect()

    def only_mine(fd: int, folder: str) -> None:
        # SQLite opens the store and its companions by name, so no one else may be able to swap a folder on the
        # way: each is owned by this user or root, and writable by others only if sticky (/tmp), where others
        # cannot rename what is not theirs. (git's safe.directory check is of the same kind.)
        st = os.fstat(fd)
        others_own = st.st_uid not in (os.getuid(), 0)
        if others_own or (st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX):
            who = "another user" if others_own else f"everyone (mode {st.st_mode & 0o7777:o})"
            raise InvalidInput(
                field,
                f"folder {folder} of {path} can be changed by {who}; a knowledge store must live in folders only "
                "you (or root) can change, because SQLite opens its files by name",
            )

    try:
        expected = _checked_store(path, field, readonly, only_mine)
    except FileNotFoundError as err:
        if readonly:
            return None  # a folder on the way is gone: there is no store to read
        raise _swapped(path, field, err) from None
    if expected is None:
        return None
    with _SQLITE_OPEN:
        before = _open_files()
        conn = connect()
        after = _open_files()
    if before is None or after is None:
        return conn  # no /proc (not Linux): the checks above are all there is
    if not any((dev, ino) == expected for _, dev, ino in after - before):
        conn.close()
        raise _swapped(path, field, OSError(errno.ELOOP, "SQLite opened another file"))
    return conn


def _checked_store(path: str, field: str, readonly: bool, inspect: Callable[[int, str], None]) -> tuple | None:
    """``(device, inode)`` of the store file at ``path`` after the checks of :func:`open_sqlite` (creating it
    unless ``readonly``); ``None`` if ``readonly`` and there is none."""
    with _parent_fd(path, field, create=not readonly, inspect=inspect) as (folder, name):
        for companion in _COMPANIONS:
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISLNK(os.stat(name + companion, dir_fd=folder, follow_symlinks=False).st_mode):
                    raise _swapped(path, field, OSError(errno.ELOOP, f"{name + companion} is a symlink"))
        if not readonly:
            with contextlib.suppress(FileExistsError):
                flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
                os.close(os.open(name, flags, 0o644, dir_fd=folder))
        try:
            st = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            if readonly:
                return None
            raise
        if stat.S_ISLNK(st.st_mode):
            raise _swapped(path, field, OSError(errno.ELOOP, "the store is a symlink"))
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInput(field, f"{path} is not a regular file")
        return st.st_dev, st.st_ino
