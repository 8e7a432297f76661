"""Offline extraction with no concept vocabulary: direction, sign, negation, abbreviations, plurals, bad input, and
precision/recall floors on the hand-written evaluation sets of benchmarks/extraction.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from labwright.errors import InvalidInput, MalformedFile
from labwright.knowledge import (
    KnowledgeStore,
    ingest_text,
    normalise_concept,
    normalise_text,
    offline_extract,
    read_corpus,
    read_events,
)
from labwright.knowledge._text import MAX_EVIDENCE_CHARS, MAX_SENTENCE_CHARS, cap_evidence

ROOT = Path(__file__).resolve().parents[2]


def relations(text: str) -> set[tuple[str, str, str, str]]:
    """(normalised source, relation, normalised target, sign) of every directed pair extracted from ``text``."""
    return {
        (normalise_text(s), e.relation, normalise_text(t), e.sign)
        for e in offline_extract(text)
        if e.directed
        for s in e.source
        for t in e.target
    }


def test_passive_voice_keeps_the_agent_as_source():
    # the old extractor read "X is reduced by Y" as X reduces Y
    rels = relations("Corrosion of the copper foil is accelerated by dissolved oxygen.")
    assert ("dissolved oxygen", "accelerates", "corrosion", "+") in rels
    assert not any(s == "corrosion" for s, *_ in rels)
    # a passive without an agent states no direction
    assert relations("The solvent is reduced at the lithium metal surface.") == set()


def test_negation_keeps_direction_and_drops_the_sign():
    assert relations("Ascorbate does not inhibit catalase.") == {("ascorbate", "does not inhibit", "catalase", "0")}
    assert relations("Sucrose did not increase the viscosity of the buffer.") >= {
        ("sucrose", "does not increase", "viscosity", "0")
    }


def test_each_coordinated_verb_gets_its_own_sign():
    rels = relations("The borate additive lowers the interfacial resistance and improves the cycle life.")
    assert ("borate additive", "lowers", "interfacial resistance", "-") in rels
    assert ("borate additive", "improves", "cycle life", "+") in rels
    assert len(rels) == 2
    # a new subject after "whereas" starts a new relation
    rels = relations("Leptin lowers appetite, whereas orexin raises it and promotes wakefulness.")
    assert ("leptin", "lowers", "appetite", "-") in rels and ("orexin", "promotes", "wakefulness", "+") in rels


def test_abbreviations_mean_what_their_own_document_defines():
    bio = "Hyaluronic acid (HA) hydrogels swell in water. HA binds the CD44 receptor."
    assert ("hyaluronic acid", "binds", "cd44 receptor", "0") in relations(bio)
    # in another document "HA" is just "HA" (hydroxyapatite, here): nothing carries over
    assert ("ha", "promotes", "bone ingrowth", "+") in relations("HA promotes bone ingrowth.")
    # a date is not an abbreviation of anything ("Dec" once became diethyl carbonate)
    events = offline_extract("On Dec 5, 2024, the team found that zinc ions inhibit the enzyme.")
    names = {normalise_text(n) for e in events for n in (*e.source, *e.target)}
    assert "diethyl carbonate" not in names and not any(n.startswith("dec") for n in names)
    assert ("zinc ion", "inhibits", "enzyme", "-") in relations(
        "On Dec 5, 2024, the team found that zinc ions inhibit the enzyme."
    )


def test_abbreviation_aliases_are_stored_for_lookup(tmp_path):
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    ingest_text(store, "Polyethylene glycol (PEG) coatings reduce protein adsorption.", "d1", extractor="offline")
    assert store.resolve("PEG coatings") == store.resolve("polyethylene glycol coating")
    store.close()


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("bias", "bias"),
        ("lens", "lens"),
        ("lenses", "lens"),
        ("matrices", "matrix"),
        ("hypotheses", "hypothesis"),
        ("species", "species"),
        ("apoptosis", "apoptosis"),
        ("kinetics", "kinetics"),
        ("gas", "gas"),
        ("cellulases", "cellulase"),  # not in the lexicon: regular rules
        ("nanorods", "nanorod"),
        ("grain boundaries", "grain boundary"),
        ("perovskite nanocrystals", "perovskite nanocrystal"),
    ],
)
def test_plurals_fold_with_a_real_inflection_lexicon(plural, singular):
    assert normalise_text(plural) == singular


def test_trivial_names_and_the_formula_of_nanoceria_are_one_node():
    # the trivial names through the curated table, the formula through its composition (systematic names through
    # OPSIN: tests/knowledge/test_chemicals.py)
    keys = {normalise_concept(n).key for n in ("nanoceria", "CeO2 nanoparticles", "CeO₂", "ceria", "cerium oxide")}
    assert keys == {"formula:CeO2"}


def test_smiles_in_text_are_recognised_by_rdkit(tmp_path):
    (event,) = [e for e in offline_extract("OCC(O)CO inhibits the lipase.") if e.directed]
    assert dict(event.structures) == {"OCC(O)CO": "OCC(O)CO"}
    store = KnowledgeStore(tmp_path / "kg.sqlite")
    ingest_text(store, "OCC(O)CO inhibits the lipase.", "d", extractor="offline")
    glycerol = normalise_concept("glycerol", smiles="C(C(CO)O)O")
    # the node is keyed by the molecule's InChIKey, as any other name with this structure would be
    assert any(n.key == glycerol.key for n in store.nodes(store.all_node_ids()).values())
    store.close()


def test_binary_and_unsplittable_text_are_refused_on_one_line(tmp_path):
    with pytest.raises(InvalidInput, match="NUL byte at character 3") as err:
        offline_extract("abc\x00def")
    assert err.value.field == "text" and "\n" not in str(err.value)
    blob = "a" * (5 * 1024 * 1024)
    with pytest.raises(InvalidInput, match=f"no sentence break in more than {MAX_SENTENCE_CHARS:,}") as err:
        offline_extract(blob)
    assert "\n" not in str(err.value)
    bad = tmp_path / "paper.txt"
    bad.write_bytes(b"Caffeine blocks adenosine receptors.\n\xff\xfe broken")
    with pytest.raises(MalformedFile, match=r"line 2: not UTF-8 text: byte 0xff at offset 37") as err:
        read_corpus(bad)
    assert "\n" not in str(err.value)
    png = tmp_path / "figure.md"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(MalformedFile, match="not UTF-8 text|binary data"):
        read_corpus(png)
    events = tmp_path / "events.jsonl"
    events.write_bytes(b'{"source": ["a"], "relation": "r", "target": ["b"]}\n{"source": ["\xc3"]}\n')
    with pytest.raises(MalformedFile, match="line 2: not UTF-8 text"):
        list(read_events(events))


def test_long_evidence_is_capped_with_an_ellipsis_and_offsets_kept():
    sentence = "Zinc ions inhibit the enzyme " + "in a buffer " * 200 + "at pH 7."
    (event,) = [e for e in offline_extract(sentence) if e.directed]
    assert len(event.evidence) == MAX_EVIDENCE_CHARS and "…" in event.evidence
    assert (event.start, event.end) == (0, len(sentence))  # the citation still spans the whole sentence
    assert cap_evidence("short") == "short"


def _benchmark():
    spec = importlib.util.spec_from_file_location("extraction_benchmark", ROOT / "benchmarks" / "extraction.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(
    ("name", "precision", "recall"),
    [
        # measured 0.725 / 0.943 (the set the rules were developed against: see benchmarks/extraction.py)
        ("extraction_eval.jsonl", 0.68, 0.88),
        # measured 0.634 / 0.788 (written later, never tuned to; first scored 0.889 / 0.727)
        ("extraction_heldout.jsonl", 0.58, 0.70),
        # measured 0.700 / 0.848 (geochemistry, pharmacology, materials; written with the chemical-name work, first
        # scored 0.683 / 0.848; 0.683 without OPSIN, which merges "potassium ferricyanide, K3[Fe(CN)6]")
        ("extraction_heldout2.jsonl", 0.62, 0.78),
    ],
)
def test_precision_and_recall_floors_on_hand_written_sentences(name, precision, recall):
    bench = _benchmark()
    res = bench.score(bench.load(ROOT / "benchmarks" / "data" / name))
    assert res["gold"] >= 33 and res["documents"] >= 26
    assert res["precision"] >= precision and res["recall"] >= recall, res


def test_cooccurrence_hyperedge_where_no_relation_is_stated():
    events = offline_extract("Titania and zirconia powders were calcined under argon at high temperature.")
    (event,) = events
    assert not event.directed and event.relation == "co-occurs with" and event.target == ()
    assert {normalise_text(n) for n in event.source} >= {"titania", "zirconia powder", "argon"}


def test_a_vocabulary_keeps_only_phrases_that_name_one_of_its_concepts():
    text = "Zinc ions inhibit the enzyme and lower the reaction rate."
    assert {t for _, _, t, _ in relations(text)} == {"enzyme", "reaction rate"}
    kept = {normalise_text(t) for e in offline_extract(text, vocabulary=["enzyme", "zinc ion"]) for t in e.target}
    assert kept == {"enzyme"}


def test_ingest_tool_refuses_unsplittable_text_before_writing(tmp_path):
    import labwright

    store = str(tmp_path / "kg.sqlite")
    with pytest.raises(InvalidInput, match="no sentence break") as err:
        labwright.call_tool(
            "kg_ingest_text", {"text": "x" * 30_000, "document_id": "d", "extractor": "offline", "store_path": store}
        )
    assert err.value.field == "text" and "\n" not in str(err.value)
    assert KnowledgeStore(store).counts()["documents"] == 0


def test_long_paragraphs_are_segmented_in_windows_exactly_as_pysbd_does_whole():
    import pysbd
    from labwright.knowledge._text import split_sentences

    para = " ".join(d["text"] for d in _benchmark().load()) * 3  # ~12,000 characters on one line: three windows
    whole = pysbd.Segmenter(language="en", clean=False, char_span=True).segment(para)
    expected = [(s.start, s.start + len(s.sent.rstrip())) for s in whole if s.sent.strip()]
    assert split_sentences(para) == expected
