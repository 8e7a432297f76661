"""Hypergraph knowledge store: n-ary relations from text with provenance, s-traversal, grounded hypotheses, HIF.

A :class:`KnowledgeStore` keeps nodes, hyperedges (relation + source/target roles), incidences and provenance in
one SQLite file, or in one schema of a PostgreSQL database (``LABWRIGHT_DATABASE_URL``; :func:`migrate_store` moves a
file there). Text is turned into events ``{source: [..], relation, target: [..]}`` by an LLM or by a
deterministic offline extractor; queries follow s-adjacency (two hyperedges are adjacent when they share ≥ s nodes)
without building the s-line graph. Importing this package registers the librarian tools ``kg_ingest_text``,
``kg_ingest_events``, ``kg_stats``, ``kg_neighbors``, ``kg_paths``, ``kg_hypotheses`` and ``kg_export``.
"""

from . import _tools as _tools  # registers the kg_* tools
from ._extract import ExtractedEvent as ExtractedEvent
from ._extract import keyphrases as keyphrases
from ._extract import llm_extract as llm_extract
from ._extract import offline_extract as offline_extract
from ._hif import from_hypernetx as from_hypernetx
from ._hif import hif_schema as hif_schema
from ._hif import load_hif as load_hif
from ._hif import read_hif as read_hif
from ._hif import to_hif as to_hif
from ._hif import to_hypernetx as to_hypernetx
from ._hif import to_networkx as to_networkx
from ._hif import validate_hif as validate_hif
from ._hif import write_hif as write_hif
from ._hypotheses import Claim as Claim
from ._hypotheses import Hypothesis as Hypothesis
from ._hypotheses import HypothesisSet as HypothesisSet
from ._hypotheses import generate_hypotheses as generate_hypotheses
from ._ingest import Document as Document
from ._ingest import Event as Event
from ._ingest import IngestReport as IngestReport
from ._ingest import ingest_documents as ingest_documents
from ._ingest import ingest_events as ingest_events
from ._ingest import ingest_text as ingest_text
from ._ingest import read_corpus as read_corpus
from ._ingest import read_events as read_events
from ._migrate import migrate_store as migrate_store
from ._normalise import Concept as Concept
from ._normalise import normalise_concept as normalise_concept
from ._normalise import normalise_text as normalise_text
from ._query import Citation as Citation
from ._query import EdgeView as EdgeView
from ._query import PathView as PathView
from ._query import components as components
from ._query import find_paths as find_paths
from ._query import neighbours as neighbours
from ._stats import PowerLawFit as PowerLawFit
from ._stats import fit_power_law as fit_power_law
from ._stats import hypergraph_stats as hypergraph_stats
from ._store import KnowledgeStore as KnowledgeStore
from ._store import Provenance as Provenance
from ._store import open_store as open_store
from ._text import abbreviations as abbreviations
from ._tools import LIBRARIAN_TOOLS as LIBRARIAN_TOOLS
from ._traverse import HyperIndex as HyperIndex
from ._traverse import k_shortest_s_paths as k_shortest_s_paths
from ._traverse import s_components as s_components
from ._traverse import s_edge_distance as s_edge_distance
from ._traverse import s_shortest_path as s_shortest_path
