"""Call labwright tools as plain Python functions (runs offline in a second)."""

import labwright

for name, smiles in [
    ("caffeine", "Cn1c(=O)c2c(ncn2C)n(C)c1=O"),
    ("ferrocene methanol", "OC[c-]1cccc1.[cH-]1cccc1.[Fe+2]"),
]:
    d = labwright.describe_molecule(smiles=smiles)
    print(f"{name:20s} {d.formula:12s} {d.molecular_weight:8.2f} g/mol  {d.inchikey}")
print("tools:", ", ".join(labwright.list_tools()))
