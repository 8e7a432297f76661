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
"""

import jax

from ..settings import get_settings

_CACHE_MIN_COMPILE_S = 0.2

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_cpu_enable_async_dispatch", False)


def _enable_compilation_cache() -> None:
    settings = get_settings()
    if not settings.compile_cache or jax.config.jax_compilation_cache_dir:  # off, or the user's own choice wins
        return
    jax.config.update("jax_compilation_cache_dir", str(settings.home_dir / "jax_cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", _CACHE_MIN_COMPILE_S)


_enable_compilation_cache()
