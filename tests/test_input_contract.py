"""The input contract, walked as a table: every public entry point x every invalid class.

For each entry point (a row: the function, one valid set of arguments, and the kind of each
argument) every argument is replaced by each invalid value of its kind and the call is run
eagerly, under ``jax.jit`` and under ``jax.vmap`` (a batch of one valid and one invalid value,
or two invalid ones for the type/shape classes). The outcome is classified:

* ``raised``: ValueError / TypeError before tracing, or the ``eqx.error_if`` run-time error
  (eager, jit, vmap), whose message names the argument;
* ``limit``: the 1e+-300 classes only: a finite result (the physical limit; the contract is
  "no overflow to NaN/inf");
* ``nan`` (silent NaN/inf), ``wrong`` (a finite number for an invalid input), ``foreign``
  (any other exception, or an error that does not name the argument): failures.

``pytest -s tests/test_input_contract.py`` prints the table (entry points x classes).
Compiled functions are shared: one ``jax.jit`` per row, reused by every value class.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from pathlib import Path
from collections.abc import Callable

import equinox as eqx
import jax
import numpy as np
import pytest

from netmag_jax import classical, mri, statmech
from netmag_jax import dynamics as dyn
from netmag_jax.mri import design

# --- invalid classes per argument kind --------------------------------------------------------
#: class name -> value from the valid value v (numpy array); "shape/type" classes first
_TYPE_CLASSES = ("complex", "empty")
_MAKERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "zero": np.zeros_like,
    "neg": lambda v: -np.abs(v) - 1.0,
    "nan": lambda v: np.full_like(v, np.nan),
    "+inf": lambda v: np.full_like(v, np.inf),
    "-inf": lambda v: np.full_like(v, -np.inf),
    "1e300": lambda v: np.full_like(v, 1e300),
    "1e-300": lambda v: np.full_like(v, 1e-300),
    "complex": lambda v: v + 1j,
    "empty": lambda v: np.zeros((0,) + v.shape[1:]),
    "zero-norm": np.zeros_like,
    "non-unit": lambda v: 2.0 * v,
}
_KINDS = {
    "pos": ("zero", "neg", "nan", "+inf", "complex", "1e300", "1e-300"),
    "nonneg": ("neg", "nan", "+inf", "complex", "1e300"),
    "finite": ("nan", "+inf", "-inf", "complex", "1e300"),
    "cfinite": ("nan", "+inf"),  # complex allowed (signals, RF)
    "seq": ("empty", "nan", "+inf", "complex"),
    "cseq": ("empty", "nan", "+inf"),
    "unit": ("zero-norm", "non-unit", "nan", "complex"),
    "static_pos": ("zero", "neg", "nan", "+inf", "complex"),  # NumPy-side numbers
}
_LIMIT_CLASSES = ("1e300", "1e-300")


@dataclasses.dataclass(frozen=True)
class Row:
    """One public entry point: ``fn(**args)`` valid; ``kinds`` (arg -> kind) are walked;
    ``extra`` adds named invalid values (e.g. T2 > 2 T1); ``static`` args are never traced."""

    name: str
    fn: Callable
    args: dict
    kinds: dict
    extra: dict = dataclasses.field(default_factory=dict)
    static: tuple = ()
    vmap: bool = True


def _mm(**kw):
    """A one-cell-thick 2 x 1 x 1 permalloy-like Micromagnet (demag on)."""
    return dyn.Micromagnet((2, 1, 1), (5e-9, 5e-9, 3e-9), **kw)


_POS = np.zeros((3, 3))
_RF = mri.hard(math.pi / 2, 1e-3, n=4)
_SING = statmech.SingleIon(1.5, 0.8, {(2, 0): 1e-23})
_M0_MM = np.tile(np.array([1.0, 0.0, 0.0]), (2, 1, 1, 1))

ROWS = [
    # --- MRI closed forms, signal, pulses ----------------------------------------------------
    Row(
        "ernst_signal",
        mri.ernst_signal,
        dict(flip_angle=0.3, TR=0.01, T1=1.0, M0=1.0, TE=0.002, T2star=0.05),
        dict(flip_angle="finite", TR="pos", T1="pos", M0="finite", TE="nonneg", T2star="pos"),
    ),
    Row("ernst_angle", mri.ernst_angle, dict(TR=0.01, T1=1.0), dict(TR="pos", T1="pos")),
    Row(
        "inversion_recovery_signal",
        mri.inversion_recovery_signal,
        dict(TI=0.5, T1=1.0, M0=1.0),
        dict(TI="nonneg", T1="pos", M0="finite"),
    ),
    Row(
        "spin_echo_signal",
        mri.spin_echo_signal,
        dict(TE=0.05, T2=0.1, M0=1.0, flip_angle=1.5, refocus_angle=3.0),
        dict(TE="nonneg", T2="pos", M0="finite", flip_angle="finite", refocus_angle="finite"),
    ),
    Row(
        "bssfp_signal",
        mri.bssfp_signal,
        dict(flip_angle=0.5, TR=0.005, T1=1.0, T2=0.1, off_resonance=10.0, TE=0.002, M0=1.0),
        dict(
            flip_angle="finite",
            TR="pos",
            T1="pos",
            T2="pos",
            off_resonance="finite",
            TE="nonneg",
            M0="finite",
        ),
        extra={"T2": {"T2>2T1": 3.0}},
    ),
    Row(
        "bssfp_signal_on_resonance",
        mri.bssfp_signal_on_resonance,
        dict(flip_angle=0.5, TR=0.005, T1=1.0, T2=0.1, M0=1.0),
        dict(flip_angle="finite", TR="pos", T1="pos", T2="pos", M0="finite"),
        extra={"T2": {"T2>2T1": 3.0}},
    ),
    Row(
        "induced_emf",
        mri.induced_emf,
        dict(signal=np.array([1.0 + 0.5j]), B0=3.0, b1_per_ampere=1e-5, volume=1e-9),
        dict(signal="cfinite", B0="pos", b1_per_ampere="finite", volume="pos"),
    ),
    Row(
        "loop_coil_b1",
        mri.loop_coil_b1,
        dict(
            positions=np.zeros((2, 3)),
            center=np.array([0.1, 0, 0]),
            radius=0.05,
            normal=np.array([1.0, 0, 0]),
        ),  # fmt: skip
        dict(positions="finite", center="finite", radius="pos", normal="unit"),
    ),
    Row(
        "thermal_noise_std",
        mri.thermal_noise_std,
        dict(resistance=50.0, temperature=300.0, bandwidth=1e5),
        dict(resistance="pos", temperature="nonneg", bandwidth="pos"),
    ),
    Row(
        "add_noise",
        lambda signal, sigma: mri.add_noise(jax.random.PRNGKey(0), signal, sigma=sigma),
        dict(signal=np.array([1.0 + 0j, 0.5]), sigma=0.1),
        dict(sigma="nonneg"),
    ),
    Row("flip_angle", mri.flip_angle, dict(rf=_RF, dt=2.5e-4), dict(rf="cseq", dt="pos")),
    Row(
        "hard",
        lambda flip_angle, phase: mri.hard(flip_angle, 1e-3, 4, phase),
        dict(flip_angle=1.0, phase=0.0),
        dict(flip_angle="finite", phase="finite"),
    ),
    Row(
        "sinc",
        lambda flip_angle: mri.sinc(flip_angle, 2e-3, 4.0, n=16),
        dict(flip_angle=1.0),
        dict(flip_angle="finite"),
    ),
    Row(
        "hyperbolic_secant",
        lambda b1_max, beta_t, mu: mri.hyperbolic_secant(8e-3, 32, b1_max, beta_t, mu),
        dict(b1_max=2e-5, beta_t=5.3, mu=5.0),
        dict(b1_max="pos", beta_t="pos", mu="pos"),
    ),
    Row(
        "from_waveform",
        lambda waveform, dt, flip_angle: mri.from_waveform(waveform, dt, flip_angle, unit="rad"),
        dict(waveform=np.array([0.1, 0.2, 0.1]), dt=1e-5, flip_angle=1.0),
        dict(waveform="cseq", dt="pos", flip_angle="finite"),
    ),
    Row(
        "slice_select_gradient",
        mri.slice_select_gradient,
        dict(time_bandwidth=4.0, duration=2e-3, thickness=5e-3),
        dict(time_bandwidth="pos", duration="pos", thickness="pos"),
    ),
    Row(
        "equilibrium_magnetization",
        mri.equilibrium_magnetization,
        dict(B0=3.0, temperature=310.0, proton_density=6.69e28),
        dict(B0="finite", temperature="pos", proton_density="pos"),
    ),
    Row("larmor_frequency", mri.larmor_frequency, dict(B0=3.0), dict(B0="finite")),
    Row(
        "cayley_klein",
        lambda rf, dt, positions, off_resonance, b1: mri.cayley_klein(
            rf, np.zeros((4, 3)), dt, positions, off_resonance, b1
        ),
        dict(rf=_RF, dt=2.5e-4, positions=np.zeros((2, 3)), off_resonance=5.0, b1=1.0),
        dict(rf="cseq", dt="pos", positions="finite", off_resonance="finite", b1="finite"),
    ),
    Row(
        "Spins",
        lambda positions, T1, T2, M0, off_resonance, b1, B0: mri.Spins(
            positions, T1, T2, M0, off_resonance, 0.0, b1, B0
        ).frequency_offset(),
        dict(
            positions=np.zeros((2, 3)), T1=1.0, T2=0.1, M0=1.0, off_resonance=0.0, b1=1.0, B0=3.0
        ),  # fmt: skip
        dict(
            positions="finite",
            T1="pos",
            T2="pos",
            M0="finite",
            off_resonance="finite",
            b1="finite",
            B0="pos",
        ),  # fmt: skip
        extra={"T2": {"T2>2T1": 3.0}},
    ),
    Row(
        "epg_cpmg",
        mri.epg_cpmg,
        dict(
            refocus_angles=np.full(3, 2.5),
            echo_spacing=0.01,
            T1=1.0,
            T2=0.1,
            M0=1.0,
            excitation=1.5,
        ),  # fmt: skip
        dict(
            refocus_angles="seq",
            echo_spacing="pos",
            T1="pos",
            T2="pos",
            M0="finite",
            excitation="finite",
        ),  # fmt: skip
        extra={"T2": {"T2>2T1": 3.0}},
    ),
    Row(
        "epg_gre",
        mri.epg_gre,
        dict(
            flip_angles=np.full(3, 0.3),
            phases=np.zeros(3),
            TR=0.01,
            T1=1.0,
            T2=0.1,
            M0=1.0,
            TE=0.002,
        ),  # fmt: skip
        dict(flip_angles="seq", TR="pos", T1="pos", T2="pos", M0="finite", TE="nonneg"),
        extra={"T2": {"T2>2T1": 3.0}},
        vmap=False,  # flip_angles and phases must keep equal shapes
    ),
    Row(
        "design.simulate_pulse",
        lambda rf, gradient, dt, positions: design.simulate_pulse(rf, gradient, dt, positions)[
            "mz"
        ],
        dict(rf=_RF, gradient=1e-3, dt=2.5e-4, positions=np.array([0.0, 1e-3])),
        dict(rf="cseq", gradient="finite", dt="pos", positions="finite"),
    ),
    Row(
        "design.max_flip_angle",
        design.max_flip_angle,
        dict(b1_max=1e-5, duration=1e-3, b1_scale=1.0),
        dict(b1_max="pos", duration="pos", b1_scale="pos"),
    ),
    # --- dynamics ------------------------------------------------------------------------------
    Row(
        "thermal_sigma",
        dyn.thermal_sigma,
        dict(alpha=0.01, temperature=300.0, Ms=8e5, volume=1e-24, dt=1e-13),
        dict(alpha="nonneg", temperature="nonneg", Ms="pos", volume="pos", dt="pos"),
    ),
    Row(
        "llg",
        lambda m0, field, dt, alpha, t0: dyn.llg(m0, field, dt, 4, alpha=alpha, t0=t0).m,
        dict(
            m0=np.array([1.0, 0, 0]), field=np.array([0, 0, 1e5]), dt=1e-13, alpha=0.1, t0=0.0
        ),  # fmt: skip
        dict(m0="unit", field="finite", dt="pos", alpha="nonneg", t0="finite"),
    ),
    Row(
        "Micromagnet",
        lambda Ms, A, Ku, u, Kc, D, H_ext: _mm(
            Ms=Ms, A=A, Ku=Ku, u=u, Kc=Kc, D=D, H_ext=H_ext
        ).field(_M0_MM),
        dict(
            Ms=8e5,
            A=1.3e-11,
            Ku=1e3,
            u=np.array([0, 0, 1.0]),
            Kc=1e2,
            D=1e-4,
            H_ext=np.array([1e3, 0, 0]),
        ),  # fmt: skip
        dict(
            Ms="pos", A="nonneg", Ku="finite", u="unit", Kc="finite", D="finite", H_ext="finite"
        ),  # fmt: skip
    ),
    Row(
        "Micromagnet.evolve",
        lambda dt, alpha: (
            dyn.Micromagnet((1, 1, 1), (5e-9,) * 3, Ms=8e5, A=1.3e-11, demag=False)
            .evolve(_M0_MM[:1], dt, 1, alpha=alpha)
            .m
        ),
        dict(dt=1e-13, alpha=0.5),
        dict(dt="pos", alpha="nonneg"),
    ),
    Row("switching_field", dyn.switching_field, dict(psi=0.3), dict(psi="finite")),
    Row("coercivity", dyn.coercivity, dict(psi=0.3), dict(psi="finite")),
    Row(
        "sw_energy",
        dyn.sw_energy,
        dict(theta=0.1, h=0.2, psi=0.3),
        dict(theta="finite", h="finite", psi="finite"),
    ),
    Row(
        "stoner_wohlfarth",
        lambda h, psi: dyn.stoner_wohlfarth(h, psi).m_up,
        dict(h=0.2, psi=0.3),
        dict(h="finite", psi="finite"),
    ),
    Row(
        "sw_loop",
        lambda psi, h_max: dyn.sw_loop(psi, h_max, n=11).m,
        dict(psi=0.3, h_max=2.0),
        dict(psi="finite", h_max="pos"),
    ),
    Row("anisotropy_field", dyn.anisotropy_field, dict(K=1e5, Ms=8e5), dict(K="finite", Ms="pos")),
    Row(
        "thermal_stability",
        dyn.thermal_stability,
        dict(K=1e5, V=1e-24, T=300.0),
        dict(K="pos", V="pos", T="pos"),
    ),
    Row(
        "energy_barrier",
        dyn.energy_barrier,
        dict(K=1e5, V=1e-24, h=0.2),
        dict(K="pos", V="pos", h="finite"),
    ),
    Row(
        "retention_time",
        dyn.retention_time,
        dict(K=1e5, V=1e-24, T=300.0, tau0=1e-9),
        dict(K="pos", V="pos", T="pos", tau0="pos"),
    ),
    Row(
        "brown_escape_time",
        dyn.brown_escape_time,
        dict(K=1e5, Ms=8e5, V=1e-24, T=300.0, alpha=0.01, gamma=1.76e11),
        dict(K="pos", Ms="pos", V="pos", T="pos", alpha="pos", gamma="pos"),
    ),
    Row(
        "stt_field",
        dyn.stt_field,
        dict(J=1e11, Ms=8e5, thickness=2e-9, eta=0.5),
        dict(J="finite", Ms="pos", thickness="pos", eta="pos"),
    ),
    Row(
        "critical_current_density",
        dyn.critical_current_density,
        dict(alpha=0.01, Ms=8e5, thickness=2e-9, H_k_eff=1e5, eta=0.5, H_ext=0.0),
        dict(
            alpha="pos", Ms="pos", thickness="pos", H_k_eff="finite", eta="pos", H_ext="finite"
        ),  # fmt: skip
    ),
    Row(
        "prism_demag_factors",
        dyn.prism_demag_factors,
        dict(a=1e-9, b=2e-9, c=3e-9),
        dict(a="static_pos", b="static_pos", c="static_pos"),
    ),
    # --- classical, statmech -----------------------------------------------------------------
    Row(
        "predicted_moments",
        lambda B, T, size, n_particles, mass: (
            classical.predicted_moments(B, T, size, n_particles, mass=mass).interior
        ),
        dict(B=1.0, T=300.0, size=1e-6, n_particles=10.0, mass=9.1e-31),
        dict(B="finite", T="pos", size="pos", n_particles="pos", mass="pos"),
    ),
    Row(
        "Paramagnet.moment",
        lambda g, B, T: statmech.Paramagnet(1.5, g).moment(B, T),
        dict(g=2.0, B=1.0, T=2.0),
        dict(g="pos", B="finite", T="pos"),
    ),
    Row(
        "SingleIon.moment",
        lambda B, T: _SING.moment(B, T),
        dict(B=np.array([0.0, 0.0, 1.0]), T=2.0),
        dict(B="finite", T="pos"),
    ),
    Row(
        "ElectronGas.chemical_potential",
        lambda n, T: statmech.ElectronGas(n).chemical_potential(T),
        dict(n=2.65e28, T=300.0),
        dict(n="pos", T="pos"),
    ),
    Row(
        "curie_weiss",
        statmech.curie_weiss,
        dict(T=300.0, C=1.0, theta=10.0),
        dict(T="pos", C="pos", theta="finite"),
    ),
    Row(
        "curie_constant",
        statmech.curie_constant,
        dict(J=1.5, g=2.0, n=1e28),
        dict(g="pos", n="pos"),
    ),
]

# --- running and classifying ----------------------------------------------------------------
_ACCEPTED = (ValueError, TypeError, RuntimeError)  # EquinoxRuntimeError, JaxRuntimeError
RESULTS: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
FAILURES: list[str] = []


def _leaves_finite(out) -> bool:
    leaves = [np.asarray(x) for x in jax.tree.leaves(out)]
    return all(np.all(np.isfinite(x)) for x in leaves if x.dtype != bool)


def _classify(call, arg: str, cls: str) -> str:
    try:
        out = call()
        jax.block_until_ready(out)
    except _ACCEPTED as e:
        msg = str(e)
        named = arg in msg or (arg == "signal" and "induced_emf" in msg)
        return "raised" if named else f"foreign (error not naming {arg}: {msg[:120]!r})"
    except Exception as e:  # anything else is a foreign exception
        return f"foreign ({type(e).__name__}: {str(e)[:120]})"
    if not _leaves_finite(out):
        return "nan"
    return "limit" if cls in _LIMIT_CLASSES else "wrong"


def _traced_names(row: Row, args: dict) -> list[str]:
    return [k for k, v in args.items() if k not in row.static and not callable(v)]


def _invalid_values(row: Row):
    for arg, kind in row.kinds.items():
        v = np.asarray(row.args[arg])
        for cls in _KINDS[kind]:
            yield arg, cls, _MAKERS[cls](v if np.iscomplexobj(v) else v.astype(float))
        for cls, value in row.extra.get(arg, {}).items():
            yield arg, cls, np.full_like(v, value, dtype=float)


def _run_row(row: Row) -> list[tuple[str, str, str, str]]:
    """Every (arg, class, mode) of one row -> outcome. One ``jax.jit`` and one
    ``jax.jit(jax.vmap)`` (over every traced argument) per row, shared by all value classes."""
    names = _traced_names(row, row.args)
    # traced arguments always as float64/complex128 NumPy arrays (one compile per row)
    valid = {k: (np.asarray(v, float) if k in names and not np.iscomplexobj(v) else v)
             for k, v in row.args.items()}  # fmt: skip

    def call(*xs):
        return row.fn(**{**valid, **dict(zip(names, xs, strict=True))})

    jitted, batched = jax.jit(call), jax.jit(jax.vmap(call))
    out = []
    for arg, cls, bad in _invalid_values(row):
        args = {**valid, arg: bad}
        traced = [args[k] for k in names]
        out.append((arg, cls, "eager", _classify(lambda a=args: row.fn(**a), arg, cls)))
        out.append((arg, cls, "jit", _classify(lambda t=traced: jitted(*t), arg, cls)))
        if not row.vmap:
            continue
        # a batch of two: (valid, invalid) for value classes, (invalid, invalid) for the
        # type/shape classes (which cannot share a batch with a valid value)
        pair = (bad, bad) if cls in _TYPE_CLASSES else (valid[arg], bad)
        batch = [np.stack(pair) if k == arg else np.stack([valid[k]] * 2) for k in names]
        out.append((arg, cls, "vmap", _classify(lambda b=batch: batched(*b), arg, cls)))
    return out


@pytest.fixture(scope="module", autouse=True)
def _summary():
    """Print the entry-point x class table (with ``-s``) after the module's tests."""
    yield
    classes = [c for c in _MAKERS] + ["T2>2T1"]
    used = [c for c in classes if any((r.name, c) in RESULTS for r in ROWS)]
    total = collections.Counter()
    for counter in RESULTS.values():
        total.update(counter)
    print("\n\ninput contract: outcomes per entry point x invalid class (eager + jit + vmap)")
    print("r = raised with a clear error naming the argument, l = finite limit (1e+-300),")
    print("N = silent NaN/inf, W = wrong finite number, F = foreign exception\n")
    print(f"{'entry point':34s}" + "".join(f"{c:>10s}" for c in used))
    short = {"raised": "r", "limit": "l", "nan": "N", "wrong": "W", "foreign": "F"}
    for row in ROWS:
        cells = []
        for c in used:
            cnt = RESULTS.get((row.name, c))
            cells.append(
                "-" if not cnt else " ".join(f"{v}{short[k]}" for k, v in sorted(cnt.items()))
            )
        print(f"{row.name:34s}" + "".join(f"{x:>10s}" for x in cells))
    n = sum(total.values())
    print(
        f"\n{len(ROWS)} entry points, {n} runs: " + ", ".join(f"{k} {v}" for k, v in total.items())
    )
    for f in FAILURES:
        print("FAIL", f)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_input_contract(row: Row):
    """Every invalid input of this entry point raises a clear error naming the argument
    (eagerly, under jit, under vmap); the 1e+-300 classes may instead give a finite limit."""
    bad = []
    for arg, cls, mode, outcome in _run_row(row):
        kind = outcome.split(" ")[0]
        RESULTS[(row.name, cls)][kind] += 1
        if kind not in ("raised", "limit"):
            bad.append(f"{row.name}({arg}={cls}) [{mode}]: {outcome}")
    FAILURES.extend(bad)
    assert not bad, "\n".join(bad)


def test_table_covers_every_class():
    """The generator is not vacuous: every class of every kind is produced and used."""
    for kind, classes in _KINDS.items():
        for cls in classes:
            v = _MAKERS[cls](np.ones(3))
            assert v.dtype.kind in "fc"
            if cls == "empty":
                assert v.size == 0
            elif cls == "complex":
                assert np.iscomplexobj(v)
            else:
                assert not np.array_equal(v, np.ones(3)), (kind, cls)
    assert isinstance(eqx.Module, type) and len(ROWS) >= 40


def test_jit_on_models_pattern_in_readme():
    """The README documents jit on equinox models: ``jax.jit(model.method)`` fails with
    'unhashable type' (jit hashes the bound method, whose model holds arrays); the documented
    ``eqx.filter_jit(model.method)`` and the lambda closure work and equal the eager value, and
    filter_jit traces the model's arrays (a new g does not recompile)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "eqx.filter_jit(gd.moment)(5.0, 2.0)" in readme
    assert "jax.jit(lambda B, T: model.moment(B, T))" in readme
    gd = statmech.Paramagnet(J=3.5, g=2.0, n=3.0e28)
    with pytest.raises(TypeError, match="unhashable"):
        jax.jit(gd.moment)(5.0, 2.0)
    eager = gd.moment(5.0, 2.0)
    np.testing.assert_allclose(eqx.filter_jit(gd.moment)(5.0, 2.0), eager, rtol=1e-14)
    np.testing.assert_allclose(jax.jit(lambda B, T: gd.moment(B, T))(5.0, 2.0), eager, rtol=1e-14)

    traces = []

    @eqx.filter_jit
    def moment(model, B, T):
        traces.append(1)  # runs once per trace
        return model.moment(B, T)

    moment(gd, 5.0, 2.0)
    other = statmech.Paramagnet(J=3.5, g=2.1, n=3.0e28)
    np.testing.assert_allclose(moment(other, 5.0, 2.0), other.moment(5.0, 2.0), rtol=1e-14)
    assert len(traces) == 1
