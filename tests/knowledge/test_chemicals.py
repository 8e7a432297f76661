"""Chemicals in text: formulae checked against RDKit's periodic table, names parsed by OPSIN, and the spellings of one
substance merged through its composition."""

from __future__ import annotations

import random

import pytest
from labwright.knowledge import (
    Document,
    KnowledgeStore,
    ingest_documents,
    ingest_text,
    normalise_concept,
    offline_extract,
)
from labwright.knowledge._formula import hill_formula, parse_formula
from labwright.knowledge._opsin import names_to_smiles, opsin_status
from labwright.settings import get_settings
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

needs_opsin = pytest.mark.skipif(opsin_status() != "opsin", reason=f"OPSIN unavailable ({opsin_status()})")


@pytest.mark.parametrize(
    ("written", "smiles"),
    [  # each formula against RDKit's formula of a structure drawn independently
        ("LiPF6", "[Li+].F[P-](F)(F)(F)(F)F"),
        ("CeO2", "O=[Ce]=O"),
        ("CeO₂", "O=[Ce]=O"),
        ("H2O2", "OO"),
        ("Fe(CN)6^3-", "[Fe-3](C#N)(C#N)(C#N)(C#N)(C#N)C#N"),
        ("[Ru(NH3)6]3+", "[Ru+3].N.N.N.N.N.N"),
        ("CuSO4·5H2O", "[Cu+2].[O-]S(=O)(=O)[O-].O.O.O.O.O"),
        ("SO42-", "[O-]S(=O)(=O)[O-]"),
        ("SO4²⁻", "[O-]S(=O)(=O)[O-]"),
        ("NO3-", "[O-][N+](=O)[O-]"),
        ("Ce3+", "[Ce+3]"),
        ("CO2", "O=C=O"),
        ("CH3COOH", "CC(=O)O"),
        ("Li2CO3", "[Li+].[Li+].[O-]C([O-])=O"),
        ("NH4+", "[NH4+]"),
        ("O2", "O=O"),
    ],
)
def test_formulae_parse_to_the_composition_rdkit_gives_the_structure(written, smiles):
    assert parse_formula(written).hill == rdMolDescriptors.CalcMolFormula(Chem.MolFromSmiles(smiles))


@pytest.mark.parametrize(
    "word",
    # abbreviations of biology, medicine and instruments, cell lines, single letters and elements without a count
    "COVID PDF ATP CNS PBS UV DNA NADH CoA PI3K SH3 H1N1 CB1 HeLa Cas9 Caco2 B12 Th17 K562 IL-6 MOF SEI XRD In No He "
    "Co C3 p53 T4".split(),
)
def test_words_that_are_not_formulae_are_refused(word):
    assert parse_formula(word) is None


def test_random_formulae_round_trip_to_their_hill_form():
    rng = random.Random(15)
    table = Chem.GetPeriodicTable()
    # elements RDKit gives no fixed valence (metals) or an even one, so every random composition is closed-shell
    pool = [table.GetElementSymbol(z) for z in (6, 8, 14, 16, 22, 26, 27, 28, 29, 30, 40, 42, 58, 74, 78, 79)]
    for _ in range(300):
        counts = {el: rng.choice([1, 1, 2, 3, 4, 6, 12]) for el in rng.sample(pool, rng.randint(2, 4))}
        order = list(counts)
        rng.shuffle(order)
        written = "".join(el + (str(counts[el]) if counts[el] > 1 else "") for el in order)
        if not any(ch.isdigit() or ch.islower() for ch in written):
            assert parse_formula(written) is None, written  # capitals only ("SW"): read as an abbreviation
        else:
            assert parse_formula(written).hill == hill_formula(counts), written


def test_spellings_of_one_substance_share_a_node_through_composition():
    ceria = {normalise_concept(n).key for n in ("CeO2", "CeO2 nanoparticles", "ceria", "cerium oxide")}
    assert ceria == {"formula:CeO2"}
    assert normalise_concept("LiPF6").key == normalise_concept("lithium hexafluorophosphate").key
    assert normalise_concept("H2O2").key == normalise_concept("peroxide", smiles="OO").key
    # an organic formula cannot tell isomers apart: glucose's structure keeps its InChIKey, the formula its own node
    glucose = normalise_concept("glucose", smiles="OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O")
    assert glucose.key.startswith("inchikey:") and normalise_concept("C6H12O6").key == "formula:C6H12O6"
    assert normalise_concept("ATP").key == "text:atp"


def test_a_formula_the_tokeniser_would_cut_stays_one_participant():
    (event,) = [e for e in offline_extract("Fe(CN)6^3- oxidises ascorbic acid in the cell.") if e.directed]
    assert event.source == ("Fe(CN)6^3-",)
    assert normalise_concept(event.source[0]).formula == "C6FeN6-3"


@needs_opsin
def test_opsin_parses_systematic_names_and_refuses_phrases():
    found = names_to_smiles(["cerium(IV) oxide", "2-methylpropan-1-ol", "T cell activation", "macrophage"])
    assert set(found) == {"cerium(IV) oxide", "2-methylpropan-1-ol"}
    isobutanol = normalise_concept("isobutanol", smiles="CC(C)CO")  # drawn here, not by OPSIN
    assert normalise_concept("x", smiles=found["2-methylpropan-1-ol"]).key == isobutanol.key
    assert normalise_concept("x", smiles=found["cerium(IV) oxide"]).key == "formula:CeO2"


@needs_opsin
def test_names_formula_and_trivial_name_of_ceria_become_one_node(tmp_path):
    text = (
        "Cerium(IV) oxide scavenges hydrogen peroxide in the wound. CeO2 nanoparticles lower oxidative stress. "
        "Nanoceria mimics catalase."
    )
    with KnowledgeStore(tmp_path / "kg.sqlite") as store:
        report = ingest_text(store, text, "d", extractor="offline")
        assert report.chemical_names == "opsin"
        node = store.resolve("cerium(IV) oxide")
        assert store.resolve("CeO2") == store.resolve("nanoceria") == node
        record = store.nodes([node])[node]
        assert record.key == "formula:CeO2" and record.formula == "CeO2" and record.kind == "molecule"
        edges = store.edges(store.all_edge_ids())
        assert sum(node in e.nodes for e in edges.values()) == 3  # one edge per sentence meets the one node


def test_without_java_opsin_is_off_and_says_why(monkeypatch):
    from labwright.knowledge import _opsin

    monkeypatch.setenv("PATH", "")
    _opsin._java.cache_clear()
    try:
        assert opsin_status() == "off: no java runtime on the PATH"
        assert names_to_smiles(["cerium(IV) oxide"]) == {}
    finally:
        monkeypatch.undo()
        _opsin._java.cache_clear()


def test_without_opsin_names_stay_phrases_and_the_report_says_so(tmp_path):
    settings = get_settings(opsin=False)
    assert opsin_status(settings).startswith("off")
    with KnowledgeStore(tmp_path / "kg.sqlite") as store:
        report = ingest_documents(
            store,
            [Document("d", "Cerium(IV) oxide scavenges hydrogen peroxide.")],
            extractor="offline",
            settings=settings,
        )
        assert report.chemical_names == "off: LABWRIGHT_OPSIN=0"
        keys = {n.key for n in store.nodes(store.all_node_ids()).values()}
        assert keys == {"text:cerium(iv) oxide", "formula:H2O2"}
