"""Entry point for ``langgraph dev`` / LangGraph Studio (see ``langgraph.json`` at the repository root).

Studio loads this file by path, so it imports labwright absolutely (install it first: ``pip install -e .``). The
platform supplies the checkpointer; each node opens the run's audit log, ledger and policy under ``LABWRIGHT_HOME``
for the thread id, and uses the LLM planner if ``LABWRIGHT_BASE_URL``/``LABWRIGHT_MODEL`` are set, else the offline
planner. Start a run with the input ``{"request": "describe the molecule c1ccccc1O"}``.
"""

from labwright.agents.graph import build_graph

graph = build_graph()
