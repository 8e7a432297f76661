"""Call labwright tools as plain Python functions, and look at a workflow before running it (offline, seconds)."""

from pathlib import Path

import labwright
import labwright.skills as sk

for name, smiles in [
    ("caffeine", "Cn1c(=O)c2c(ncn2C)n(C)c1=O"),
    ("ferrocene methanol", "OC[c-]1cccc1.[cH-]1cccc1.[Fe+2]"),
]:
    d = labwright.describe_molecule(smiles=smiles)
    print(f"{name:20s} {d.formula:12s} {d.molecular_weight:8.2f} g/mol  {d.inchikey}")
print("tools:", ", ".join(labwright.list_tools()))

# Loading a workflow checks every contract between its steps; nothing runs until sk.run(...).
wf = sk.load_workflow(Path(__file__).parent / "workflows" / "redox_kinetics.yaml")
for step in wf.spec.steps:
    after = ", ".join(wf.dependencies(step)) or "-"
    print(f"  {step.id:11s} {wf.skill_of(step.id).ref:30s} after: {after}")
print("run it with: labwright run examples/workflows/redox_kinetics.yaml --approve all   (or: make demo)")
