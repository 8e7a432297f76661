"""The audit chain's anchor outside the database: an append-only file of HMAC-authenticated ``(log, seq, hash)`` lines.

Why: a hash chain stored only in its own SQLite file proves nothing to someone who can rewrite that file — they can
truncate it, recompute every hash and the head, append forged rows, empty it or delete it. The anchor keeps, in a
second file, one line per appended row::

    {"log": "<log id>", "seq": 7, "hash": "<row hash>", "mac": "<hex>"}

where ``mac = HMAC-SHA256(key, previous line's mac + canonical JSON of log, seq and hash)``. The key is 32 random
bytes in a file created with mode 0600 (owner-only). Lines cannot be edited, reordered or removed from the middle
without the key; removing lines from the *end* of the anchor as well as rows from the end of the database is the one
rollback a local anchor cannot see (put the anchor on append-only or remote storage against that).

Lines are appended inside the database's write transaction (``BEGIN IMMEDIATE`` holds SQLite's write lock), so lines
from several processes are written in row order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Anchor", "AnchorState"]


def _mac(key: bytes, prev_mac: str, log_id: str, seq: int, digest: str) -> str:
    body = json.dumps({"hash": digest, "log": log_id, "seq": seq}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, (prev_mac + body).encode(), hashlib.sha256).hexdigest()


@dataclass
class AnchorState:
    """What the anchor file vouches for: ``rows[log_id][seq] = hash``, and anything wrong with the file itself."""

    rows: dict[str, dict[int, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lines: int = 0
    usable: bool = True  # False when the key is missing: nothing the file says can be trusted


class Anchor:
    """The anchor file at ``path`` with its HMAC key at ``key_path``.

    Parameters
    ----------
    path
        Append-only file of anchor lines (created with mode 0600).
    key_path
        The HMAC key file; created with 32 random bytes and mode 0600 on the first append.
    """

    def __init__(self, path: str | Path, key_path: str | Path):
        self.path = Path(path)
        self.key_path = Path(key_path)
        self._cached_key: bytes | None = None  # read once per instance (appends are frequent)
        self._written: tuple[int, int, str] | None = None  # (inode, size, mac) after this instance's last append

    # -- the key -------------------------------------------------------------------------------------------------
    def _key(self, *, create: bool) -> bytes | None:
        if self._cached_key is not None:
            return self._cached_key
        try:
            self._cached_key = bytes.fromhex(self.key_path.read_text().strip())
            return self._cached_key
        except FileNotFoundError:
            if not create:
                return None
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:  # O_EXCL: two processes creating the key at once keep the first one
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._key(create=False)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        self._cached_key = key
        return key

    def key_problems(self) -> list[str]:
        """Problems with an existing key file: readable or writable by others than its owner."""
        try:
            mode = stat.S_IMODE(self.key_path.stat().st_mode)
        except FileNotFoundError:  # reported by read() when there is an anchor to check
            return []
        if mode & 0o077:
            return [f"the anchor key {self.key_path} is readable by others (mode {mode:o}; it must be 600)"]
        return []

    @property
    def exists(self) -> bool:
        return self.path.exists()

    # -- writing -------------------------------------------------------------------------------------------------
    def _last_mac(self) -> str:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return ""
        # The line this instance wrote last is still the file's last line when the file is the same one and as long as
        # it was then (no other process appended since): no need to read it back.
        if self._written is not None and self._written[:2] == (info.st_ino, info.st_size):
            return self._written[2]
        try:
            with self.path.open("rb") as fh:
                fh.seek(max(0, info.st_size - 4096))
                tail = fh.read().splitlines()
        except FileNotFoundError:
            return ""
        for line in reversed(tail):
            if line.strip():
                try:
                    return str(json.loads(line)["mac"])
                except (ValueError, KeyError, TypeError):
                    return ""  # a damaged last line: verification reports it; the chain goes on from nothing
        return ""

    def append(self, log_id: str, seq: int, digest: str) -> None:
        """Append the line for row ``seq`` of log ``log_id`` with hash ``digest`` (call inside the DB write lock)."""
        self.append_many(log_id, [(seq, digest)])

    def append_many(self, log_id: str, rows: list[tuple[int, str]]) -> None:
        """Append one line per ``(seq, digest)`` of log ``log_id``, in one write (call inside the DB write lock)."""
        key = self._key(create=True)
        assert key is not None
        mac, text = self._last_mac(), []
        for seq, digest in rows:
            mac = _mac(key, mac, log_id, seq, digest)
            line = {"log": log_id, "seq": seq, "hash": digest, "mac": mac}
            text.append(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the folder is gone or was never made
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, "".join(text).encode())
            info = os.fstat(fd)
        finally:
            os.close(fd)
        self._written = (info.st_ino, info.st_size, mac)

    # -- reading -------------------------------------------------------------------------------------------------
    def read(self) -> AnchorState:
        """Every line checked against the key and the line before it; rows vouched for, and problems found."""
        state = AnchorState()
        if not self.path.exists():
            return state
        self._cached_key = None  # verification reads the key file as it is now
        key = self._key(create=False)
        if key is None:
            state.problems.append(f"the anchor key {self.key_path} is missing: the anchor cannot be checked")
            state.usable = False
            return state
        prev = ""
        for n, raw in enumerate(self.path.read_bytes().splitlines(), start=1):
            if not raw.strip():
                continue
            state.lines += 1
            try:
                line = json.loads(raw)
                log_id, seq, digest, mac = str(line["log"]), int(line["seq"]), str(line["hash"]), str(line["mac"])
            except (ValueError, KeyError, TypeError):
                state.problems.append(f"anchor line {n} is not a valid anchor record (edited)")
                continue
            if not hmac.compare_digest(mac, _mac(key, prev, log_id, seq, digest)):
                state.problems.append(
                    f"anchor line {n} (row {seq}) fails its HMAC: the anchor file was edited, or lines were removed "
                    "or reordered before it"
                )
            prev = mac
            state.rows.setdefault(log_id, {})[seq] = digest
        return state
