"""The offline planner makes sensible plans for representative requests of every role, never invents arguments, and
labels itself as the offline planner in everything it writes (it never passes for a language model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from labwright import Lab
from labwright.agents.offline import TAG, OfflinePlanner, extract_entities
from labwright.tools import call_tool, get_tool

ROOT = Path(__file__).resolve().parents[2]
MECH = ROOT / "examples" / "data" / "mechanisms" / "review"
CV = ROOT / "examples" / "data" / "redox_kinetics" / "cv_0.1Vps.csv"


def plan(request: str, context=()) -> dict:
    reply, tokens = OfflinePlanner().plan(request, context=list(context))
    assert tokens == 0  # no model, no tokens
    for task in reply["tasks"]:
        assert task["goal"].startswith(TAG)
    if reply["content"] is not None:
        assert reply["content"].startswith(TAG)
    return reply


def only_call(reply: dict) -> tuple[str, str, dict]:
    (task,) = reply["tasks"]
    (call,) = task["calls"]
    get_tool(call["tool"]).validate(call["args"])  # the planner only plans calls the gate will accept
    return task["role"], call["tool"], call["args"]


def _values(args: dict, key: str) -> list:
    """Values of ``key`` at the top level or one level down (nested parameter models)."""
    out = [args[key]] if key in args else []
    return out + [v[key] for v in args.values() if isinstance(v, dict) and key in v]


# -- electrochemist ------------------------------------------------------------------------------------------------
def test_electrochemist_simulates_a_cv_with_the_rate_constant_given():
    reply = plan("simulate a CV for k0=1e-3 m/s")
    role, tool, args = only_call(reply)
    assert (role, tool) == ("electrochemist", "simulate_cv")
    assert _values(args, "k0") == [pytest.approx(1e-3)]
    # The window is not in the request: the conventional one is assumed and said so (bulk R: oxidise first).
    (call,) = reply["tasks"][0]["calls"]
    assert call["assumed"] == {"E_start": -0.5, "E_vertex": 0.5, "scan_rate": 0.1}
    assert "assumed" in reply["tasks"][0]["goal"] and any("assumed" in n for n in reply["notes"])
    # What the request gives is never overridden by a convention.
    _, _, args = only_call(plan("simulate a CV with bulk=O E0=0.2 scan_rate=1 k0=1e-5"))
    assert args["scan_rate"] == 1 and args["E_start"] == pytest.approx(0.7) and args["E_vertex"] == pytest.approx(-0.3)
    _, tool, args = only_call(plan("simulate chronoamperometry with k0=1e-5"))
    assert tool == "simulate_ca" and args["k0"] == 1e-5 and args["durations"] == [1.0]


@pytest.mark.slow  # the first simulation compiles the JAX solver (several seconds)
def test_cv_simulation_runs_end_to_end_and_states_its_assumptions():
    reply = Lab().chat("simulate a CV for k0=1e-3 m/s")
    assert reply.status == "answered", reply
    (ev,) = reply.results[0]["evidence"]
    assert (ev["tool"], ev["status"], ev["args"]["k0"]) == ("simulate_cv", "ok", 1e-3)
    assert "assumed" in reply.results[0]["summary"] and reply.answer.startswith(TAG)


def test_electrochemist_fit_asks_for_what_it_needs_and_never_invents_it():
    missing = plan(f"fit this voltammogram {CV}")
    assert missing["tasks"] == []
    assert "fit_cv (electrochemist) needs fixed" in missing["content"]
    assert "area" in missing["content"] and "c_bulk" in missing["content"]
    role, tool, args = only_call(plan(f"fit this voltammogram {CV} with area=7.07e-6 c_bulk=1"))
    assert (role, tool) == ("electrochemist", "fit_cv")
    assert args == {"paths": [str(CV)], "fixed": {"area": 7.07e-6, "c_bulk": 1}}


def test_fit_request_goes_to_the_electrochemist_then_estimate_then_approval(monkeypatch):
    """The issue's example: "fit this voltammogram" -> electrochemist -> cost estimate -> a person's approval."""
    monkeypatch.setenv("LABWRIGHT_APPROVAL_SECONDS", "1")
    lab = Lab()
    first = lab.chat(f"fit this voltammogram {CV} with area=7.07e-6 c_bulk=1")
    (p,) = first.pending
    assert (p.kind, p.role, p.tool) == ("approval", "electrochemist", "fit_cv")
    assert p.estimate["seconds"] > 1 and p.estimate["sim_calls"] > 0 and "exceeds" in p.reason
    done = lab.answer({p.id: {"reject": "not now"}})  # rejecting keeps the test fast: nothing is fitted
    assert done.status == "answered" and done.answer.startswith(TAG)
    assert [e["status"] for e in done.results[0]["evidence"]] == ["rejected"]
    assert "not now" in done.answer


def test_randles_sevcik_on_three_files_runs_end_to_end():
    files = [CV.parent / f"cv_{v}Vps.csv" for v in ("0.05", "0.1", "0.2")]
    reply = Lab().chat("randles sevcik analysis of " + " ".join(map(str, files)) + " with area=7.07e-6 concentration=1")
    assert reply.status == "answered", reply
    (ev,) = reply.results[0]["evidence"]
    assert reply.results[0]["role"] == "electrochemist" and ev["tool"] == "randles_sevcik" and ev["status"] == "ok"
    assert ev["args"]["paths"] == list(map(str, files)) and ev["result"]["scan_rates"] == [0.05, 0.1, 0.2]
    assert f"D={ev['result']['D']}" in reply.answer  # the summary quotes the tool's number exactly


# -- mechanist -----------------------------------------------------------------------------------------------------
def test_mechanist_scores_a_mechanism_against_a_reference():
    missing = plan("score this mechanism")
    assert missing["tasks"] == [] and "score_mechanism (mechanist) needs prediction" in missing["content"]
    assert "reference" in missing["content"]
    # Paths after "against" go to the reference (or gold) side whatever the field order of the tool.
    role, tool, args = only_call(plan(f"score the mechanism {MECH}/candidate_good.yaml against {MECH}/reference.yaml"))
    assert (role, tool) == ("mechanist", "score_mechanism")
    assert args == {
        "prediction": {"path": f"{MECH}/candidate_good.yaml"},
        "reference": {"path": f"{MECH}/reference.yaml"},
    }
    _, tool, args = only_call(plan(f"oMeS score of {MECH}/candidate_good.yaml against {MECH}/reference.yaml"))
    assert tool == "omes_score" and args["gold"] == {"path": f"{MECH}/reference.yaml"}


def test_mechanist_takes_files_from_earlier_in_the_conversation():
    context = [
        f"user: my proposal is {MECH}/candidate_missing_water.yaml, the reference {MECH}/reference.yaml",
        "lab: ok",
    ]
    _, tool, args = only_call(plan("score this mechanism", context))
    assert tool == "score_mechanism"
    assert args["prediction"] == {"path": f"{MECH}/candidate_missing_water.yaml"}
    assert args["reference"] == {"path": f"{MECH}/reference.yaml"}


def test_mechanism_scoring_runs_end_to_end():
    reply = Lab().chat(f"score the mechanism {MECH}/candidate_good.yaml against {MECH}/reference.yaml")
    assert reply.status == "answered", reply
    assert reply.answer.startswith(TAG) and "score_mechanism returned" in reply.answer
    assert reply.results[0]["role"] == "mechanist" and reply.results[0]["evidence"][0]["status"] == "ok"


# -- kineticist ----------------------------------------------------------------------------------------------------
def test_kineticist_checks_detailed_balance_of_a_cycle():
    role, tool, args = only_call(plan("check detailed balance of A<->B, B<->C, C<->A"))
    assert (role, tool) == ("kineticist", "check_detailed_balance")
    assert args == {"reactions": ["A <-> B", "B <-> C", "C <-> A"]}


def test_kineticist_simulation_takes_rates_initial_values_and_duration():
    role, tool, args = only_call(plan("simulate the network A + B -> C; kf=2 from A=1, B=0.5 for 10 s"))
    assert (role, tool) == ("kineticist", "simulate_network")
    assert args == {"reactions": ["A + B -> C; kf=2"], "initial": {"A": 1, "B": 0.5}, "t_end": 10.0}
    missing = plan("simulate the network A -> B; kf=1")
    assert missing["tasks"] == [] and "simulate_network (kineticist) needs initial" in missing["content"]


def test_detailed_balance_runs_end_to_end_and_reports_the_violated_cycle():
    # Wegscheider: around A->B->C->A the product k+/k- is 2 * 1 * 1 != 1, so detailed balance fails.
    reply = Lab().chat("check detailed balance of A <-> B; kf=2, kr=1, B <-> C; kf=1, kr=1, C <-> A; kf=1, kr=1")
    assert reply.status == "answered", reply
    assert "satisfied=False" in reply.answer and "structural_ok=True" in reply.answer
    assert reply.results[0]["role"] == "kineticist"


# -- librarian -----------------------------------------------------------------------------------------------------
def test_librarian_finds_hypotheses_paths_and_neighbours():
    role, tool, args = only_call(plan("find hypotheses linking ceria and PCL"))
    assert (role, tool, args) == ("librarian", "kg_hypotheses", {"a": "ceria", "b": "PCL"})
    _, tool, args = only_call(plan("find hypotheses linking cerium oxide and PCL scaffolds through ROS"))
    assert args == {"a": "cerium oxide", "b": "PCL scaffolds", "through": ["ROS"]}
    assert only_call(plan("paths between ceria and PCL"))[1:] == ("kg_paths", {"a": "ceria", "b": "PCL"})
    assert only_call(plan("neighbours of ceria"))[1:] == ("kg_neighbors", {"concept": "ceria"})


def test_hypotheses_run_end_to_end_on_a_small_store():
    events = [
        {"source": ["ceria"], "relation": "scavenges", "target": ["reactive oxygen species"]},
        {"source": ["reactive oxygen species"], "relation": "degrades", "target": ["PCL"]},
    ]
    call_tool("kg_ingest_events", {"events": events, "document_id": "doc-1"})  # under the test's LABWRIGHT_HOME
    reply = Lab().chat("find hypotheses linking ceria and PCL")
    assert reply.status == "answered", reply
    assert reply.results[0]["role"] == "librarian"
    (ev,) = reply.results[0]["evidence"]
    assert ev["status"] == "ok" and ev["result"]["hypotheses"]
    assert ev["result"]["hypotheses"][0]["via"] == ["reactive oxygen species"]


# -- reviewer and no match -----------------------------------------------------------------------------------------
def test_reviewer_only_when_a_review_is_asked_for():
    role, tool, _ = only_call(plan(f"review the mechanism in {MECH}/candidate_good.yaml"))
    assert (role, tool) == ("reviewer", "validate_mechanism")
    assert only_call(plan(f"validate the mechanism {MECH}/candidate_good.yaml"))[0] == "mechanist"


def test_requests_without_a_matching_tool_or_arguments_get_an_offline_answer():
    assert "no registered tool matches" in plan("what is the meaning of life")["content"]
    reply = plan("validate the mechanism")  # no file, no inline mechanism: the call would be refused, so none
    assert reply["tasks"] == [] and "validate_mechanism (mechanist) cannot run" in reply["content"]
    answer = Lab().chat("what is the meaning of life")
    assert answer.status == "needs_input" and answer.answer.startswith(TAG)  # nothing ran: the user must add more


def test_entities_of_a_request():
    ent = extract_entities("simulate 2 A <-> B; kf=1e3, kr=0.5 and B -> 0 from A=1 for 2.5 s, smiles CCO, see x/y.csv")
    assert ent.reactions == ["2 A <-> B; kf=1e3, kr=0.5", "B -> 0"]
    assert ent.species == ["A", "B"] and ent.pairs == {"A": 1} and ent.t_end == 2.5
    assert ent.smiles == ["CCO"] and ent.paths == ["x/y.csv"]


def test_every_text_of_an_offline_run_is_labelled(tmp_path):
    lab = Lab()
    reply = lab.chat("describe the molecule CCO and check detailed balance of A<->B, B<->C, C<->A")
    assert reply.status == "answered" and reply.planner == "offline planner"
    assert {r["role"] for r in reply.results} == {"mechanist", "kineticist"}
    assert reply.answer.startswith(f"{TAG} deterministic rules, no language model")
    for r in reply.results:
        assert r["summary"].startswith(TAG)
    plans = [row for row in lab.audit() if row.event == "plan"]
    assert plans and all(row.detail["planner"] == "offline planner" for row in plans)
    assert all(t["goal"].startswith(TAG) for row in plans for t in row.detail["tasks"])
    sources = {row.detail["source"] for row in lab.audit() if row.event == "planner_call"}
    assert sources == {"offline planner"}


def test_malformed_requests_never_crash_the_planner():
    import random
    import string

    rng = random.Random(0)
    alphabet = string.ascii_letters + string.digits + " =<->;,.{}[]()/_+\"'"
    cases = ["", "{", "a={", 'x="open', "A -> ", "A <-> B; kf=", "linking  and ", "score_mechanism {bad json}"]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(150)]
    for request in cases:
        plan(request, context=[f"user: {request}"])  # labelled offline, whatever it makes of the text
