"""JAX process settings every tool relies on; imported first by :mod:`labwright.tools`.

- ``jax_enable_x64``: the implicit electrochemistry solver and the stiff kinetics/Newton solves need float64.
- ``jax_cpu_enable_async_dispatch`` off: agents' parallel workers and workflow branches call jitted tools from several
  threads at once, and XLA's asynchronous CPU dispatch can then deadlock (jax-ml/jax#25861). The flag counts only
  before JAX first runs, which is why it is set at import.
- Persistent compilation cache in ``LABWRIGHT_HOME/jax_cache``: XLA compilation is most of a cold first fit (3.4 s of
  4.5 s wall, ~1 s of 1.5 s CPU, on the shared 2-core box at load ~9; benchmarks/cold_start.py); with the cache a
  fresh process loads the compiled simulator and fit programs from disk instead (first fit ~1 s wall there).
  Programs that compile in under ``_CACHE_MIN_COMPILE_S`` are not written (small eager ops would only fill the
  folder). Settings ``compile_cache`` (``LABWRIGHT_COMPILE_CACHE=0``) switches it off.
  The cache key covers the JAX/XLA version, the program and the backend, so a stale program is never loaded.
  Programs holding a host callback (``equinox`` runtime checks) are never cached; see ``SimSettings.checks``.
- XLA:CPU compiles a ``while`` loop whose estimated memory traffic is under a byte threshold (default 1 KiB) into
  one function; above it every fused kernel of the loop body runs as a separate task, and a task graph whose buffers
  exceed 512 bytes goes through the thread pool (~0.1 µs per kernel). A Rodas4 step is 100–130 kernels, so the
  threshold decides the speed of every stiff solve: raised to ``_WHOLE_LOOP_BYTES`` (through ``XLA_FLAGS``, read
  when JAX starts its CPU backend), one warm solve of BIOMD0000000010 took 1.06 ms instead of 4.6 ms, BIOMD0000000009
  3.3 instead of 18.5 ms and the 20-species network 4.3 instead of 46 ms (``benchmarks/kinetics.py``). The estimate
  grows with the number of kernels times their buffers, so the lanes-last batch programs of bigger models passed
  4 MiB: at 64 MiB (now) a chunk of 64 lanes of a 12-species network with Tsit5 took 1.5 instead of 6.8 ms and
  BIOMD0000000009 with Rodas4 1.06 instead of 4.5 ms per lane; CV simulations (one, 64 and 1,024 vmapped), the
  CV gradients, the other kinetics sections and the SSA were unchanged within noise. Loops holding
  a LAPACK call, scatter or sort are never compiled whole (hence Rodas4's own LU, ``kinetics/_rosenbrock.py``).
  ``xla_backend_extra_options`` already in ``XLA_FLAGS`` is left alone (the user's choice wins). Imported after JAX
  started (a notebook's ``import jax`` first), it is too late and cannot be set per compilation, so a RuntimeWarning
  says how to fix it.
"""

import os
import warnings

import jax

from ..settings import get_settings

_CACHE_MIN_COMPILE_S = 0.2
_WHOLE_LOOP_BYTES = 1 << 26


def _jax_already_running() -> bool:
    """Whether JAX started its backends before this module was imported (private JAX API: any failure reads False)."""
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge.backends_are_initialized())
    except Exception:
        return False


def _compile_small_loops_whole() -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_extra_options" not in flags:
        option = f"--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold={_WHOLE_LOOP_BYTES}"
        os.environ["XLA_FLAGS"] = f"{flags} {option}".strip()
        if _jax_already_running():
            # Too late for this process: XLA read its flags when the backend started, and the option cannot be
            # passed per compilation (``compiler_options`` rejects this map-valued field). Say so rather than run
            # every stiff solve 4–10× slower in silence (an NDF solve of a 4-species network: 1.1 ms against 0.3).
            warnings.warn(
                "labwright was imported after JAX started, so XLA:CPU will not compile solver loops into one function "
                "and stiff kinetics and CV simulations run several times slower; import labwright before running any "
                f"JAX code, or start Python with XLA_FLAGS='{option}'",
                RuntimeWarning,
                stacklevel=2,
            )


_compile_small_loops_whole()

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_cpu_enable_async_dispatch", False)


def _enable_compilation_cache() -> None:
    settings = get_settings()
    if not settings.compile_cache or jax.config.jax_compilation_cache_dir:  # off, or the user's own choice wins
        return
    jax.config.update("jax_compilation_cache_dir", str(settings.home_dir / "jax_cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", _CACHE_MIN_COMPILE_S)


_enable_compilation_cache()


def cpu_threads() -> int:
    """Cores this process may run on: how many compiled loops can run at once (each on its calling thread)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
