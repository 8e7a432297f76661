"""JAX process settings every tool relies on; imported first by :mod:`labwright.tools`.

- ``jax_enable_x64``: the implicit electrochemistry solver and the stiff kinetics/Newton solves need float64.
- ``jax_cpu_enable_async_dispatch`` off: agents' parallel workers and workflow branches call jitted tools from several
  threads at once, and XLA's asynchronous CPU dispatch can then deadlock (jax-ml/jax#25861). The flag counts only
  before JAX first runs, which is why it is set at import.
- Persistent compilation cache in ``LABWRIGHT_HOME/jax_cache``: XLA compilation is most of a cold first fit (~10 s of
  the ~13 s on 2 cores, benchmarks/cold_start.py); with the cache a fresh process loads the compiled simulator and
  fit programs from disk instead. Programs that compile in under ``_CACHE_MIN_COMPILE_S`` are not written (small
  eager ops would only fill the folder). Settings ``compile_cache`` (``LABWRIGHT_COMPILE_CACHE=0``) switches it off.
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
