"""A lab process for the multi-process tests: ``python lab_child.py MODE RUN_ID NOTE FLAG [--rule RULE] [--hold]``.

It registers the test tools, lets the kineticist call ``lab_note`` and ``blocker``, and then, with MODE ``start``,
asks for ``lab_note(NOTE) then blocker(FLAG)`` (approval rule RULE, default 'none': the run stops for approval of
lab_note); ``approve`` resumes RUN_ID with 'approve'; ``finish`` resumes it with no answer. It prints the reply as
one JSON line; ``--hold`` then keeps the process alive (paused at its checkpoint) until it is killed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

spec = importlib.util.spec_from_file_location("testing_tools", Path(__file__).with_name("testing_tools.py"))
tools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tools)
tools.register()

from labwright import Lab  # noqa: E402  (after the test tools are registered)
from labwright.agents import roles  # noqa: E402

old = roles.ROLES["kineticist"]
roles.ROLES["kineticist"] = roles.Role(old.name, old.description, old.tools | {"lab_note", "blocker"})

mode, run_id, note, flag = sys.argv[1:5]
rule = sys.argv[sys.argv.index("--rule") + 1] if "--rule" in sys.argv else "none"
lab = Lab(auto_approve=rule)
if mode == "start":
    reply = lab.chat(f"lab_note(path={note}, text=once) then blocker(flag={flag})")
elif mode == "approve":
    reply = lab.resume(run_id, "approve")
else:
    reply = lab.resume(run_id)
print(json.dumps({"run_id": reply.run_id, "status": reply.status, "answer": reply.answer}), flush=True)
if "--hold" in sys.argv:
    time.sleep(600)
