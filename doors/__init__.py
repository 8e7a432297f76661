"""Front doors above the agents and the workflows: an MCP server and a local approval inbox.

Both only call the public governed path (:func:`labwright.agents.governance.governed_call`, the run registry); neither
is a second gate. Their dependencies are optional extras: ``labwright[mcp]`` (the official MCP Python SDK) and
``labwright[web]`` (Starlette, Jinja2, uvicorn).
"""
