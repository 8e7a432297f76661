"""Shared RDKit helpers: parse, canonicalise, identify, fingerprint.

Plain functions (``to_mol``, ``to_smiles``, ``to_inchikey``, ``formula``, ``element_counts``, ``formal_charge``,
``morgan_fingerprint``, ``tanimoto``) for code, and tools (``canonicalize_smiles``, ``describe_molecule``,
``molecular_similarity``) for agents and the CLI. Invalid SMILES raise :class:`labwright.errors.InvalidSmiles`.
"""

from ._mol import Mol as Mol
from ._mol import rdkit_messages as rdkit_messages
from ._mol import to_mol as to_mol
from ._mol import to_smiles as to_smiles
from ._mol import without_rdkit_log as without_rdkit_log
from ._properties import element_counts as element_counts
from ._properties import formal_charge as formal_charge
from ._properties import formula as formula
from ._properties import molecular_weight as molecular_weight
from ._properties import to_inchikey as to_inchikey
from ._similarity import ExplicitBitVect as ExplicitBitVect
from ._similarity import morgan_fingerprint as morgan_fingerprint
from ._similarity import tanimoto as tanimoto
from ._tools import Smiles as Smiles
from ._tools import canonicalize_smiles as canonicalize_smiles
from ._tools import describe_molecule as describe_molecule
from ._tools import molecular_similarity as molecular_similarity
