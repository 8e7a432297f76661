"""SBML in and out, checked against libRoadRunner (CVODE), the reference SBML simulator, run side by side."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import libsbml
import numpy as np
import pytest
import roadrunner
from labwright.errors import InvalidInput, MalformedFile
from labwright.tools.kinetics import (
    compile_network,
    fit_sbml_parameters,
    make_sbml_solver,
    network_to_sbml,
    parse_network,
    read_sbml,
    simulate_sbml_model,
    solve_ode,
)
from labwright.tools.registry import call_tool

SBML_DIR = Path(__file__).resolve().parents[2] / "examples" / "data" / "sbml"


def roadrunner_time_course(sbml: str, species, t_end: float, n: int) -> np.ndarray:
    """Concentrations from libRoadRunner at tight CVODE tolerances (the reference)."""
    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = 1e-11
    rr.integrator.absolute_tolerance = 1e-15
    rr.integrator.maximum_num_steps = 200_000
    rr.timeCourseSelections = ["time", *(f"[{s}]" for s in species)]
    return np.asarray(rr.simulate(0.0, t_end, n))[:, 1:]


def assert_close_per_species(ours: np.ndarray, ref: np.ndarray, rel: float) -> None:
    # Error relative to each species' largest value: species that pass through 0 are still compared sensibly.
    scale = np.maximum(np.abs(ref).max(axis=0), 1e-300)
    assert np.max(np.abs(ours - ref) / scale) < rel


@pytest.mark.parametrize(
    ("model_id", "t_end", "solver"),
    [
        # Kholodenko 2000: MAPK cascade, Michaelis-Menten laws with feedback inhibition
        ("BIOMD0000000010", 4000.0, "Kvaerno5"),
        ("BIOMD0000000010", 4000.0, "Rodas4"),
        ("BIOMD0000000010", 4000.0, "NDF"),
        ("BIOMD0000000010", 4000.0, "Dopri8"),  # not stiff: explicit methods apply
        ("BIOMD0000000003", 100.0, "Rodas4"),  # Goldbeter 1991 mitotic oscillator: assignment rules for parameters
        ("BIOMD0000000003", 100.0, "NDF"),
        pytest.param("BIOMD0000000009", 100.0, "Kvaerno5", marks=pytest.mark.slow),  # Huang-Ferrell 1996: 22 species
        ("BIOMD0000000009", 100.0, "NDF"),
    ],
)
def test_curated_biomodels_match_libroadrunner(model_id, t_end, solver):
    path = str(SBML_DIR / f"{model_id}.xml")
    model = read_sbml(path)
    ts = np.linspace(0.0, t_end, 201)
    ours = simulate_sbml_model(model, ts, rtol=1e-9, atol=1e-12, solver=solver)
    ref = roadrunner_time_course(path, model.species, t_end, 201)
    # Both at tight tolerances; measured agreement ≤ 1e-8 of each species' range, asserted at 1e-6.
    assert_close_per_species(ours, ref, 1e-6)


def _peak_times(ts: np.ndarray, y: np.ndarray, floor: float) -> np.ndarray:
    inner = (y[1:-1] > y[:-2]) & (y[1:-1] > y[2:]) & (y[1:-1] > floor)
    return ts[np.flatnonzero(inner) + 1]


def test_kholodenko_cascade_oscillates_as_published():
    # Kholodenko (Eur. J. Biochem. 267 (2000) 1583, abstract and Fig. 2): negative feedback of MAPK-PP on MKKK
    # activation with ultrasensitive cascade steps gives *sustained* oscillations. Checked: MAPK-PP keeps peaking at
    # nearly constant amplitude after transients die out, with the period libRoadRunner finds (±1 %).
    path = str(SBML_DIR / "BIOMD0000000010.xml")
    model = read_sbml(path)
    ts = np.linspace(0.0, 9000.0, 1801)
    col = model.species.index("MAPK_PP")
    ours = simulate_sbml_model(model, ts, rtol=1e-8, atol=1e-10)[:, col]
    ref = roadrunner_time_course(path, model.species, 9000.0, 1801)[:, col]
    late = ts > 3000.0
    peaks, ref_peaks = _peak_times(ts[late], ours[late], 150.0), _peak_times(ts[late], ref[late], 150.0)
    assert len(peaks) >= 4 and len(peaks) == len(ref_peaks)
    assert ours[late].max() - ours[late].min() > 200.0  # nM, of 300 nM total MAPK: large amplitude
    assert np.median(np.diff(peaks)) == pytest.approx(np.median(np.diff(ref_peaks)), rel=0.01)


def _feature_model() -> str:
    """An SBML L3V2 model using most supported constructs at once (written with libsbml, compared with RoadRunner)."""
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId("features")
    for cid, size in (("cyt", 2.0), ("nuc", 0.5)):
        c = m.createCompartment()
        c.setId(cid), c.setSize(size), c.setConstant(True), c.setSpatialDimensions(3)
    species = [  # id, compartment, initial, is amount, only-substance, boundary
        ("A", "cyt", 1.0, False, False, False),
        ("B", "nuc", 0.0, False, False, False),
        ("C", "cyt", 0.6, True, True, False),  # an amount, used as such in the math
        ("S", "cyt", 0.3, False, False, True),  # boundary: fixed by reactions
        ("T", "cyt", 0.0, False, False, False),  # set by an assignment rule
    ]
    for sid, comp, value, is_amount, only, boundary in species:
        s = m.createSpecies()
        s.setId(sid), s.setCompartment(comp), s.setHasOnlySubstanceUnits(only)
        s.setBoundaryCondition(boundary), s.setConstant(False)
        s.setInitialAmount(value) if is_amount else s.setInitialConcentration(value)
    for pid, value, const in (("k1", 0.7, True), ("K", 0.2, True), ("g", 0.0, False), ("k2", 0.0, True)):
        p = m.createParameter()
        p.setId(pid), p.setValue(value), p.setConstant(const)
    f = m.createFunctionDefinition()
    f.setId("mm"), f.setMath(libsbml.parseL3Formula("lambda(v, s, km, v * s / (km + s))"))
    ia = m.createInitialAssignment()
    ia.setSymbol("k2"), ia.setMath(libsbml.parseL3Formula("2 * k1"))  # k2 = 1.4, from k1
    ar = m.createAssignmentRule()
    ar.setVariable("T"), ar.setMath(libsbml.parseL3Formula("A + B + C / cyt"))
    rr_ = m.createRateRule()
    rr_.setVariable("g"), rr_.setMath(libsbml.parseL3Formula("piecewise(1, time < 2, -0.5 * g)"))
    reactions = [
        ("import", [("A", 1)], [("B", 1)], "cyt * mm(k1, A, K) * (1 + g)", {}),
        ("back", [("B", 1)], [("A", 1)], "nuc * kb * B", {"kb": 0.4}),
        ("make", [("S", 1)], [("C", 2)], "cyt * k2 * S * exp(-time / 5)", {}),
        ("decay", [("C", 1)], [], "kd * C^2", {"kd": 0.3}),
    ]
    for rid, reactants, products, law, local in reactions:
        r = m.createReaction()
        r.setId(rid), r.setReversible(False)
        for sp, c in reactants:
            ref = r.createReactant()
            ref.setSpecies(sp), ref.setStoichiometry(c), ref.setConstant(True)
        for sp, c in products:
            ref = r.createProduct()
            ref.setSpecies(sp), ref.setStoichiometry(c), ref.setConstant(True)
        kl = r.createKineticLaw()
        for pid, value in local.items():
            lp = kl.createLocalParameter()
            lp.setId(pid), lp.setValue(value)
        kl.setMath(libsbml.parseL3Formula(law))
    return libsbml.writeSBMLToString(doc)


def test_general_rate_laws_rules_and_compartments_match_libroadrunner():
    text = _feature_model()
    model = read_sbml(text)
    assert model.state == ("A", "B", "C", "S", "g")
    assert "decay.kd" in model.parameters and "k2" in model.parameters
    ts = np.linspace(0.0, 8.0, 81)
    ours = simulate_sbml_model(model, ts, rtol=1e-10, atol=1e-13)
    ref = roadrunner_time_course(text, model.species, 8.0, 81)
    assert_close_per_species(ours, ref, 1e-7)
    # Mass balance across compartments of different size: amounts A·V_cyt + B·V_nuc are conserved by import/back.
    a, b = ours[:, 0], ours[:, 1]
    np.testing.assert_allclose(2.0 * a + 0.5 * b, 2.0, rtol=1e-8)


def _with(text: str, edit) -> str:
    doc = libsbml.readSBMLFromString(text)
    edit(doc.getModel())
    return libsbml.writeSBMLToString(doc)


def _event(m, eid: str, trigger: str, assignments: dict[str, str], *, initial_value: bool = True, delay=None):
    e = m.createEvent()
    e.setId(eid), e.setUseValuesFromTriggerTime(True)
    t = e.createTrigger()
    t.setMath(libsbml.parseL3Formula(trigger)), t.setPersistent(True), t.setInitialValue(initial_value)
    for var, formula in assignments.items():
        a = e.createEventAssignment()
        a.setVariable(var), a.setMath(libsbml.parseL3Formula(formula))
    if delay is not None:
        e.createDelay().setMath(libsbml.parseL3Formula(delay))


def _add_state_event(m):
    _event(m, "pulse", "A < 0.5", {"A": "1"})  # fires when the state crosses a level: needs root finding


def _add_delayed_event(m):
    _event(m, "later", "time > 1", {"A": "1"}, delay="0.5")


def _add_algebraic(m):
    m.createAlgebraicRule().setMath(libsbml.parseL3Formula("A + B - 1"))


def _add_delay(m):
    m.getReaction(0).getKineticLaw().setMath(libsbml.parseL3Formula("cell * kf * delay(A, 0.5)"))


@pytest.mark.parametrize(
    ("edit", "field", "match"),
    [
        (_add_state_event, "events.pulse.trigger", "only events triggered when time passes a threshold"),
        (_add_delayed_event, "events.later", "events with a delay are not supported"),
        (_add_algebraic, "rules.0", "algebraic rules"),
        (_add_delay, "reactions.r1.kineticLaw", "delay"),
    ],
)
def test_unsupported_constructs_are_named(edit, field, match):
    base = network_to_sbml(parse_network(["A -> B; kf=1"]), {"A": 1.0})
    with pytest.raises(InvalidInput, match=match) as err:
        read_sbml(_with(base, edit))
    assert err.value.field == field


def _stimulus_model(events) -> str:
    """A ⇌ B in a 2 L cell with a boundary stimulus S feeding A, and time-triggered ``events`` added."""
    net = network_to_sbml(parse_network(["A <-> B; kf=0.1, kr=0.02"]), {"A": 1.0})
    doc = libsbml.readSBMLFromString(net)
    m = doc.getModel()
    m.getCompartment("cell").setSize(2.0)
    for pid, value, constant in (("k_in", 0.0, False), ("k_on", 0.4, True), ("t_on", 5.0, True)):
        p = m.createParameter()
        p.setId(pid), p.setValue(value), p.setConstant(constant)
    s = m.createSpecies()
    s.setId("S"), s.setCompartment("cell"), s.setInitialConcentration(1.0), s.setHasOnlySubstanceUnits(False)
    s.setBoundaryCondition(True), s.setConstant(False)
    r = m.createReaction()
    r.setId("feed"), r.setReversible(False)
    ref = r.createProduct()
    ref.setSpecies("A"), ref.setStoichiometry(1.0), ref.setConstant(True)
    r.createKineticLaw().setMath(libsbml.parseL3Formula("cell * k_in * S"))
    for args, kwargs in events:
        _event(m, *args, **kwargs)
    return libsbml.writeSBMLToString(doc)


@pytest.mark.parametrize(
    "events",
    [
        # a stimulus switched on at a parameter's time, a bolus of A at once, and a strict trigger later on
        [(("on", "time >= t_on", {"k_in": "k_on", "A": "A + 2"}), {}), (("off", "time > 7.5", {"S": "0"}), {})],
        # a trigger true at t = 0 fires there only if its initialValue is false (SBML: a false -> true transition)
        [(("now", "time >= 0", {"A": "3"}), {"initial_value": False}), (("never", "0 <= time", {"B": "9"}), {})],
        # two events at the same time, each computed from the state before either (document order)
        [(("x1", "time >= 5", {"A": "B", "B": "A"}), {}), (("x2", "time >= 5", {"k_in": "0.1 * A"}), {})],
        # one beyond the end of the time course
        [(("late", "time >= 50", {"A": "100"}), {})],
    ],
    ids=["stimulus", "at-start", "simultaneous", "beyond-end"],
)
@pytest.mark.parametrize("solver", ["Kvaerno5", "Rodas4", "NDF"])
def test_time_triggered_events_match_libroadrunner(events, solver):
    # libRoadRunner applies the same SBML event semantics; an output at a firing time reports the state after it.
    sbml = _stimulus_model(events)
    model = read_sbml(sbml)
    assert model.events == tuple(args[0] for args, _ in events)
    ts = np.linspace(0.0, 10.0, 101)  # 5.0 and 7.5 are output times
    ours = simulate_sbml_model(model, ts, rtol=1e-10, atol=1e-13, solver=solver)
    ref = roadrunner_time_course(sbml, model.species, 10.0, 101)
    assert_close_per_species(ours, ref, 1e-7)


def test_gradient_through_an_event_matches_finite_differences():
    # d(A at t = 8) / d(k_on), the value an event gives the feed at t = 5, and / d(kf): reverse mode through the split
    # solve and the event's assignment vs central differences (step 1e-5 relative; agreement to 1e-5 relative).
    model = read_sbml(_stimulus_model([(("on", "time >= t_on", {"k_in": "k_on"}), {})]))
    solve = make_sbml_solver(model, rtol=1e-11, atol=1e-14)
    p0 = jnp.asarray(model.parameter_values)
    x0 = jnp.full(len(model.state), jnp.nan)
    ts = jnp.linspace(0.0, 8.0, 9)
    i_a = model.species.index("A")

    def a_at_8(p):
        ys, _ = solve(p, x0, ts)
        return ys[-1, i_a]

    grad = jax.grad(a_at_8)(p0)
    for name in ("k_on", "r1.kf"):
        i = model.parameter_index(name)
        h = 1e-5 * p0[i]
        fd = (a_at_8(p0.at[i].add(h)) - a_at_8(p0.at[i].add(-h))) / (2 * h)
        assert abs(grad[i] - fd) <= 1e-5 * abs(fd), name
    assert bool(solve(p0, x0, ts)[1])


def test_an_event_model_is_not_solved_without_its_events():
    from labwright.tools.kinetics import make_batch_solver

    model = read_sbml(_stimulus_model([(("on", "time >= t_on", {"k_in": "0.4"}), {})]))
    with pytest.raises(InvalidInput, match="make_sbml_solver") as err:
        make_batch_solver(model)
    assert err.value.field == "events"


def test_malformed_or_missing_files_raise_named_errors(tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_text("<sbml><model id='x'>")
    with pytest.raises(MalformedFile, match="broken.xml"):
        read_sbml(bad)
    for missing in (tmp_path / "absent.xml", "x" * 5000, "model\x00.xml"):
        with pytest.raises(InvalidInput, match="no such SBML file") as err:
            read_sbml(missing)
        assert err.value.field == "sbml"
    model = read_sbml(SBML_DIR / "BIOMD0000000003.xml")
    with pytest.raises(InvalidInput) as err:
        simulate_sbml_model(model, [0.0, 1.0], parameters={"nope": 1.0})
    assert err.value.field == "parameters.nope"


def test_export_import_round_trip_gives_the_same_simulation():
    # Parallel routes (C ⇌ D with C → D), a dimerisation and a birth: export, read back, simulate both ways; also
    # libRoadRunner reads the exported file and must agree (the file is valid SBML with the same meaning).
    net = parse_network(
        [
            "bind: A + B <-> C; kf=2.0, kr=0.5",
            "C <-> D; kf=0.3, kr=0.1",
            "leak: C -> D; kf=0.05",
            "2 D <-> E; kf=1.5, kr=0.2",
            "0 -> A; kf=0.01",
        ]
    )
    x0 = {"A": 1.0, "B": 0.8}
    text = network_to_sbml(net, x0)
    model = read_sbml(text)
    assert model.species == tuple(net.species) and model.reactions == ("bind", "r2", "leak", "r4", "r5")
    ts = np.linspace(0.0, 20.0, 41)
    ours = simulate_sbml_model(model, ts, rtol=1e-10, atol=1e-13)
    direct = solve_ode(compile_network(net), np.array([x0.get(s, 0.0) for s in net.species]), ts, rtol=1e-10)
    np.testing.assert_allclose(ours, direct, rtol=1e-7, atol=1e-11)
    assert_close_per_species(ours, roadrunner_time_course(text, net.species, 20.0, 41), 1e-7)


@pytest.mark.slow  # ~30 s on 2 cores, mostly compiling the reverse-mode solve
def test_gradient_through_an_imported_model_matches_central_differences():
    # d loss / d ln p for three parameters of the Kholodenko cascade (a general rate law with local parameters):
    # reverse mode through the stiff solver vs central differences (h = 1e-4 in ln p, both at rtol 1e-10).
    model = read_sbml(SBML_DIR / "BIOMD0000000010.xml")
    names = ["J0.V1", "J0.Ki", "J9.V10"]
    idx = np.array([model.parameter_index(n) for n in names])
    solve = make_sbml_solver(model, rtol=1e-10, atol=1e-12)
    ts = jnp.linspace(0.0, 600.0, 13)
    keep = jnp.full(len(model.state), jnp.nan)
    p0 = jnp.asarray(model.parameter_values)
    target = solve(p0, keep, ts)[0] * 1.05

    def loss(theta):
        ys, _ = solve(p0.at[idx].set(jnp.exp(theta)), keep, ts)
        return jnp.mean((ys - target) ** 2)

    theta = jnp.log(p0[idx])
    grad = np.asarray(jax.grad(loss)(theta))
    h = 1e-4
    fd = np.array([(loss(theta.at[i].add(h)) - loss(theta.at[i].add(-h))) / (2 * h) for i in range(len(names))])
    np.testing.assert_allclose(grad, fd, rtol=1e-4)
    assert np.all(np.abs(grad) > 0)


@pytest.mark.slow  # ~35 s on 2 cores
def test_fit_recovers_parameters_of_an_imported_model_from_noisy_data():
    # Goldbeter's mitotic oscillator: perturb the cyclin synthesis and degradation constants, simulate, add 1 % noise
    # (seeded), and fit from the file's values with reverse-mode gradients. Tolerance 5 % (noise-limited).
    model = read_sbml(SBML_DIR / "BIOMD0000000003.xml")
    truth = {"reaction1.vi": 0.025 * 1.3, "reaction2.kd": 0.01 * 0.7}
    ts = np.linspace(2.0, 60.0, 30)
    clean = simulate_sbml_model(model, ts, parameters=truth, rtol=1e-9, atol=1e-12)
    rng = np.random.default_rng(7)
    noisy = clean * (1.0 + 0.01 * rng.standard_normal(clean.shape))
    observed = {s: noisy[:, i] for i, s in enumerate(model.species)}
    out = fit_sbml_parameters(model, ts, observed, fit=list(truth), rtol=1e-8, atol=1e-11, max_iter=60)
    for name, value in truth.items():
        assert out.k[model.parameter_index(name)] == pytest.approx(value, rel=0.05)
    assert out.loss < 1e-2 * out.initial_loss and out.r_squared > 0.99


def test_sbml_tools(tmp_path):
    summary = call_tool("load_sbml", {"sbml": str(SBML_DIR / "BIOMD0000000010.xml")})
    assert summary.species["MAPK"] == 280.0 and summary.units["substance"].startswith("(1e-09 mole)")
    course = call_tool(
        "simulate_sbml",
        {
            "sbml": str(SBML_DIR / "BIOMD0000000003.xml"),
            "t_end": 10.0,
            "n_points": 11,
            "parameters": {"VM1": 3.0},
            "plot_path": str(tmp_path / "mitotic.png"),
        },
    )
    assert set(course.concentrations) == {"C", "M", "X"} and course.plot_sha256
    out = call_tool(
        "export_sbml",
        {"reactions": ["A <-> B; kf=1, kr=2", "A -> B; kf=0.5"], "initial": {"A": 1}, "path": str(tmp_path / "n.xml")},
    )
    assert (tmp_path / "n.xml").read_text() == out.sbml
    with pytest.raises(InvalidInput) as err:
        call_tool("export_sbml", {"reactions": ["A -> B; kf=1"], "initial": {"Z": 1.0}})
    assert err.value.field == "initial.Z"
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_sbml", {"sbml": str(SBML_DIR / "BIOMD0000000003.xml"), "t_end": 1.0, "initial": {"Q": 1}})
    assert err.value.field == "initial.Q"


@pytest.mark.parametrize("fold", [False, True])
def test_a_batch_of_an_imported_biomodel_equals_its_single_solves(fold):
    # BIOMD0000000010 (Kholodenko 2000, 8 species) over 7 parameter sets (V1 of J0 and V10 of J9 ×/÷ 1.5, as in
    # benchmarks/kinetics.py [3]): the auto batch (chunks of 2 on 2 threads: the lanes-last program, probed against
    # single solves) returns every lane's own single Rodas4 solve, to round-off of the different LU (1e-9 relative).
    # With the 21 parameters that every lane shares folded in as constants, the same; and a second call whose shared
    # Hill exponent J0.n is 2 instead of 1 gets a program of its own, not the first one's.
    from labwright.tools.kinetics import make_batch_solver, make_ode_solver

    model = read_sbml(SBML_DIR / "BIOMD0000000010.xml")
    idx = [model.parameter_index(name) for name in ("J0.V1", "J9.V10")]
    p_sets = np.repeat(model.parameter_values[None, :], 7, axis=0)
    p_sets[:, idx] *= 1.5 ** np.random.default_rng(5).uniform(-1.0, 1.0, size=(7, 2))
    ts = jnp.linspace(0.0, 2000.0, 21)
    options = {"solver": "Rodas4", "rtol": 1e-6, "atol": 3e-8}
    batch = make_batch_solver(model, chunk=2, threads=2, fold_constants=fold, **options)
    single = make_ode_solver(model, **options)
    for n_hill in (1.0, 2.0) if fold else (1.0,):
        p_sets[:, model.parameter_index("J0.n")] = n_hill
        x0s, qs = jax.vmap(model.prepare)(jnp.asarray(p_sets))
        ys, ok = batch(x0s, qs, ts)
        loop = np.stack([np.asarray(single(x, q, ts)[0]) for x, q in zip(x0s, qs)])
        assert bool(np.all(np.asarray(ok)))
        np.testing.assert_allclose(np.asarray(ys), loop, rtol=1e-9, atol=1e-9)
    assert np.ptp(loop[:, -1, :], axis=0).max() > 1.0


@pytest.mark.parametrize("solver", ["Tsit5", "Dopri8"])
def test_explicit_lanes_of_a_non_stiff_biomodel_match_libroadrunner(solver):
    # BIOMD0000000010 is not stiff (no Jacobian eigenvalue below -0.6 / s over its course), so the lanes-last batch
    # runs explicit methods too: 5 parameter sets (the file's values first) in chunks of 4 on 2 threads at rtol
    # 1e-10. The file's set against libRoadRunner at rtol 1e-11, the others against Rodas5P single solves at rtol
    # 1e-11 (which themselves match libRoadRunner, test_curated_biomodels_match_libroadrunner): within 1e-7 of each
    # species' range (measured 1e-11 to 1.4e-9).
    from labwright.tools.kinetics import make_batch_solver, make_ode_solver

    path = str(SBML_DIR / "BIOMD0000000010.xml")
    model = read_sbml(path)
    p_sets = np.repeat(model.parameter_values[None, :], 5, axis=0)
    idx = [model.parameter_index(name) for name in ("J0.V1", "J9.V10")]
    p_sets[1:, idx] *= 1.5 ** np.random.default_rng(3).uniform(-1.0, 1.0, size=(4, 2))
    x0s, qs = jax.vmap(model.prepare)(jnp.asarray(p_sets))
    ts = np.linspace(0.0, 4000.0, 101)
    batch = make_batch_solver(model, mode="lanes", chunk=4, threads=2, solver=solver, rtol=1e-10, atol=1e-12)
    ys, ok = batch(x0s, qs, jnp.asarray(ts))
    assert bool(np.all(np.asarray(ok)))
    course = jax.vmap(model.observe, in_axes=(0, 0, None))  # (n_t,), (n_t, n_state), q -> (n_t, n_species)
    observed = np.asarray(jax.vmap(course, in_axes=(None, 0, 0))(ts, ys, qs))
    assert_close_per_species(observed[0], roadrunner_time_course(path, model.species, 4000.0, 101), 1e-7)
    tight = make_ode_solver(model, solver="Rodas5P", rtol=1e-11, atol=1e-13)
    for lane in range(1, 5):
        ref = np.asarray(course(ts, tight(x0s[lane], qs[lane], jnp.asarray(ts))[0], qs[lane]))
        assert_close_per_species(observed[lane], ref, 1e-7)
