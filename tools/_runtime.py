"""JAX process settings every tool relies on; imported first by :mod:`labwright.tools`.

- ``jax_enable_x64``: the implicit electrochemistry solver and the stiff kinetics/Newton solves need float64.
- ``jax_cpu_enable_async_dispatch`` off: agents' parallel workers and workflow branches call jitted tools from several
  threads at once, and XLA's asynchronous CPU dispatch can then deadlock (jax-ml/jax#25861). The flag counts only
  before JAX first runs, which is why it is set at import.
"""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_cpu_enable_async_dispatch", False)
