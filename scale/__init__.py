"""Beyond one process: batch jobs (CV sweeps, many fits, many documents) on a local or Ray executor.

Plain functions and registered tools (``sweep_cv``, ``batch_fit_cv``, ``kg_ingest_batch``): each job is one governed
call whose tasks run on ``backend="local"`` (this process, the reference path) or ``backend="ray"`` (``ray.init()``
starts a local cluster; ``RAY_ADDRESS`` / ``LABWRIGHT_RAY_ADDRESS`` joins a real one; optional extra
``labwright[ray]``). Executors are usable directly: :func:`make_executor`, :class:`LocalExecutor`,
:class:`RayExecutor`.
"""

from ._executor import Executor as Executor
from ._executor import LocalExecutor as LocalExecutor
from ._executor import RayExecutor as RayExecutor
from ._executor import TaskResult as TaskResult
from ._executor import make_executor as make_executor
from ._tools import BATCH_TOOLS as BATCH_TOOLS
from ._tools import batch_fit_cv as batch_fit_cv
from ._tools import kg_ingest_batch as kg_ingest_batch
from ._tools import sweep_cv as sweep_cv
