"""The input contract, walked as a table: every public entry point x every invalid class.

For each entry point (a row: the function, one valid set of arguments, and the kind of each
argument) every argument is replaced by each invalid value of its kind and the call is run
eagerly, under ``jax.jit`` and under ``jax.vmap`` (a batch of one valid and one invalid value,
or two invalid ones for the type/shape classes). The outcome is classified:

* ``raised``: ValueError / TypeError before tracing, or the ``eqx.error_if`` run-time error
  (eager, jit, vmap), whose message names the argument;
* ``limit``: the 1e+-300 classes only: a *checked* limit, a finite result that equals the
  row's stated limit (``LIMITS``): the analytic value, or the asymptotic power law against the
  same call at the moderate extreme 1e+-30 (a zero reference does not count); a finite result
  without a stated limit, or one that disagrees, is ``wrong``;
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

from netmag_jax import classical, fit, lattice, mri, statmech
from netmag_jax.constants import GAMMA_1H, HBAR, K_B
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
    "frac": lambda v: v + 0.5,  # a count that is not an integer
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
    "static_finite": ("nan", "+inf", "complex"),
    "count": ("zero", "neg", "nan", "+inf", "complex", "frac", "1e300"),  # sizes (static)
    "axis": ("zero-norm", "nan", "+inf", "complex", "1e300", "1e-300"),  # normalised direction
    "ising": ("zero", "nan", "complex", "non-unit"),  # spins of +-1
}
_LIMIT_CLASSES = ("1e300", "1e-300")
#: the moderate extreme a 1e+-300 result is compared with (continuity check)
_MODERATE = {"1e300": 1e30, "1e-300": 1e-30}


@dataclasses.dataclass(frozen=True)
class Limit:
    """How a finite result for an argument of 1e300 / 1e-300 is verified (``why`` says which
    analytic limit makes it right). Either the asymptotic power law: the output equals
    ``(x / x_mod) ** power`` times the same call at the moderate extreme ``x_mod`` (1e30 /
    1e-30) within ``rtol`` (continuity of the closed form's limit); or, with ``value``, the
    analytic limit ``value(args)`` computed independently from the arguments."""

    why: str
    power: float | tuple = 0.0  # one exponent, or one per output leaf
    value: Callable | None = None
    rtol: float = 1e-6
    atol: float = 1e-305  # below ~1e-305 a float64 is underflow (subnormal or flushed)


#: the result no longer depends on the argument (saturation / the argument drops out)
SAME = Limit("saturated: the closed form's limit does not depend on the argument")
#: the result scales linearly with the argument (exact for a linear closed form)
LINEAR = Limit("linear in the argument", power=1.0)


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
    jit: bool = True


def _mm(**kw):
    """A one-cell-thick 2 x 1 x 1 permalloy-like Micromagnet (demag on)."""
    return dyn.Micromagnet((2, 1, 1), (5e-9, 5e-9, 3e-9), **kw)


_POS = np.zeros((3, 3))
_RF = mri.hard(math.pi / 2, 1e-3, n=4)
_SING = statmech.SingleIon(1.5, 0.8, {(2, 0): 1e-23})
_M0_MM = np.tile(np.array([1.0, 0.0, 0.0]), (2, 1, 1, 1))
_T_FIT = np.array([0.01, 0.02, 0.04, 0.08, 0.16])  # echo times [s] of the fit rows
_LAT = lattice.square(2)  # 4 sites, 8 bonds (periodic images of a 2 x 2 cell)
_Z3 = np.array([0.0, 0.0, 1.0])
_S_LAT = np.tile(_Z3, (4, 1))


def _mc(temperatures, init, axis):
    """Two measured Heisenberg sweeps of the 2 x 2 lattice (easy axis ``axis``)."""
    model = lattice.Heisenberg(_LAT, anisotropy=(0.5 * K_B, axis))
    key = jax.random.PRNGKey(0)
    obs = lattice.simulate(model, key, temperatures, 2, 0, n_chains=1, n_blocks=2, init=init)
    return obs.energy, obs.magnetization


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
    # --- lattice -------------------------------------------------------------------------------
    Row("lattice.square", lambda L: lattice.square(L).J, dict(L=2), dict(L="count"), static=("L",)),
    Row(
        "lattice.from_cell",
        lambda cell, basis, tol: lattice.from_cell(cell, basis, 2, [(1.0, K_B)], tol=tol).J,
        dict(cell=np.eye(2), basis=np.zeros((1, 2)), tol=1e-3),
        dict(cell="static_finite", basis="static_finite", tol="static_pos"),
        static=("cell", "basis", "tol"),
    ),
    Row(
        "lattice.Heisenberg.energy",
        lambda J, h, D, axis, moments: lattice.Heisenberg(_LAT, J, h, (D, axis), moments).energy(
            _S_LAT
        ),
        dict(J=K_B, h=np.array([0.0, 0.0, 0.1 * K_B]), D=0.5 * K_B, axis=_Z3, moments=1.0),
        dict(J="finite", h="finite", D="finite", axis="axis", moments="finite"),
    ),
    Row(
        "lattice.simulate",
        lambda temperatures, init, axis: _mc(temperatures, init, axis),
        dict(temperatures=np.array([2.0]), init=_S_LAT, axis=_Z3),
        dict(temperatures="pos", init="unit", axis="axis"),
        # a driver, not a traceable function: it compiles its chains itself (the value
        # checks run there) and estimates errors in NumPy afterwards
        vmap=False,
        jit=False,
    ),
    Row(
        "lattice.evolve",
        lambda spins, temperature: lattice.evolve(
            lattice.Heisenberg(_LAT), jax.random.PRNGKey(1), spins, temperature, 2
        ),
        dict(spins=_S_LAT, temperature=2.0),
        dict(spins="unit", temperature="pos"),
    ),
    Row(
        "lattice.ising_square_metropolis",
        lambda spins, temperature, J, h: lattice.ising_square_metropolis(
            spins, temperature, 2, jax.random.PRNGKey(2), J, h
        ),
        dict(spins=np.ones((4, 4)), temperature=2.0, J=K_B, h=0.0),
        dict(spins="ising", temperature="pos", J="finite", h="finite"),
    ),
    Row(
        "lattice.weiss",
        lambda T, Tc, B, g: lattice.weiss(T, Tc, 0.5, B, g),
        dict(T=5.0, Tc=10.0, B=0.0, g=2.0),
        dict(T="pos", Tc="pos", B="finite", g="pos"),
    ),
    Row(
        "lattice.mean_field_tc",
        lambda zJ, S: lattice.mean_field_tc(zJ, S),
        dict(zJ=4 * K_B, S=3.5),
        dict(zJ="finite", S="pos"),
    ),
    Row(
        "lattice.classical_exchange",
        lattice.classical_exchange,
        dict(J=K_B, S=3.5),
        dict(J="finite", S="pos"),
    ),
    Row(
        "lattice.convert_exchange",
        lambda J, S: lattice.convert_exchange(J, S, "-2J"),
        dict(J=K_B, S=3.5),
        dict(J="finite", S="pos"),
    ),
    Row(
        "lattice.exchange_from_meV",
        lattice.exchange_from_meV,
        dict(J_meV=1.0),
        dict(J_meV="finite"),
    ),
    Row("lattice.exchange_from_K", lattice.exchange_from_K, dict(J_K=1.0), dict(J_K="finite")),
    Row(
        "lattice.binder_crossing",
        lattice.binder_crossing,
        dict(
            temperatures=np.array([1.0, 2.0, 3.0]),
            binder_a=np.array([0.6, 0.5, 0.2]),
            binder_b=np.array([0.65, 0.45, 0.1]),
        ),  # fmt: skip
        dict(temperatures="seq", binder_a="seq", binder_b="seq"),
    ),
    # --- fit (the model functions are NaN-in/NaN-out adapters, documented, not rows) ---------
    Row(
        "fit.curve_fit",
        lambda x, y, p0, sigma: fit.curve_fit(fit.exponential_decay, x, y, p0, sigma=sigma).params,
        dict(x=_T_FIT, y=np.exp(-_T_FIT / 0.05), p0=np.array([0.9, 0.04]), sigma=0.01),
        dict(x="seq", y="cseq", p0="finite", sigma="pos"),
    ),
    Row(
        "fit.LevenbergMarquardt",
        lambda ftol, xtol, gtol: fit.LevenbergMarquardt(ftol, xtol, gtol).resolved(np.float64),
        dict(ftol=1e-8, xtol=1e-8, gtol=1e-8),
        dict(ftol="nonneg", xtol="nonneg", gtol="nonneg"),
    ),
]


# --- the checked limits: entry point -> {arg or (arg, class): Limit} --------------------------
def P(power, why: str) -> Limit:
    """The asymptotic power law ``out ~ arg ** power`` (checked against the moderate extreme)."""
    return Limit(why, power=power)


def V(value, why: str, atol: float = 1e-305) -> Limit:
    """The analytic limit ``value(args)``, computed here independently of the package."""
    return Limit(why, value=value, atol=atol)


ZERO = V(lambda a: 0.0, "decays to exactly 0 (exp(-huge))")
_HI, _LO = "1e300", "1e-300"
_cos, _sin = np.cos, np.sin
LIMITS: dict[str, dict] = {
    "ernst_signal": {
        ("TR", _HI): V(
            lambda a: a["M0"] * _sin(a["flip_angle"]) * np.exp(-a["TE"] / a["T2star"]),
            "full recovery: S = M0 sin(a) exp(-TE/T2*)",
        ),
        ("TR", _LO): P(1, "S ~ M0 sin(a) (TR/T1) / (1 - cos a)"),
        ("T1", _HI): P(-1, "S ~ M0 sin(a) (TR/T1) / (1 - cos a)"),
        ("T1", _LO): V(
            lambda a: a["M0"] * _sin(a["flip_angle"]) * np.exp(-a["TE"] / a["T2star"]),
            "full recovery: S = M0 sin(a) exp(-TE/T2*)",
        ),
        "M0": LINEAR,
        "TE": ZERO,
        ("T2star", _HI): SAME,
        ("T2star", _LO): ZERO,
    },
    "ernst_angle": {
        ("TR", _HI): V(lambda a: np.pi / 2, "arccos(0) = pi/2"),
        ("TR", _LO): P(0.5, "arccos(exp(-x)) ~ sqrt(2 x), x = TR/T1"),
        ("T1", _HI): P(-0.5, "arccos(exp(-x)) ~ sqrt(2 x), x = TR/T1"),
        ("T1", _LO): V(lambda a: np.pi / 2, "arccos(0) = pi/2"),
    },
    "inversion_recovery_signal": {
        "TI": V(lambda a: a["M0"], "full recovery: M0"),
        ("T1", _HI): V(lambda a: -a["M0"], "no recovery: -M0"),
        ("T1", _LO): V(lambda a: a["M0"], "full recovery: M0"),
        "M0": LINEAR,
    },
    "spin_echo_signal": {
        "TE": ZERO,
        ("T2", _HI): V(
            lambda a: a["M0"] * _sin(a["flip_angle"]) * _sin(a["refocus_angle"] / 2) ** 2,
            "no decay: M0 sin(a) sin^2(b/2)",
        ),
        ("T2", _LO): ZERO,
        "M0": LINEAR,
    },
    "bssfp_signal": {
        ("TR", _HI): SAME,
        ("T1", _HI): P(-1, "steady state ~ (1 - E1) ~ TR/T1"),
        ("T2", _LO): ZERO,
        "TE": ZERO,
        "M0": LINEAR,
    },
    "bssfp_signal_on_resonance": {
        ("TR", _HI): ZERO,
        ("TR", _LO): V(
            lambda a: (
                a["M0"]
                * _sin(a["flip_angle"])
                / (1 + a["T1"] / a["T2"] - (a["T1"] / a["T2"] - 1) * _cos(a["flip_angle"]))
            ),
            "TR -> 0: M0 sin(a) / (1 + T1/T2 - (T1/T2 - 1) cos a) (Freeman-Hill)",
        ),
        ("T1", _HI): P(-1, "steady state ~ (1 - E1) ~ TR/T1"),
        ("T2", _LO): ZERO,
        "M0": LINEAR,
    },
    "induced_emf": {"B0": LINEAR, "volume": LINEAR},
    "loop_coil_b1": {
        "positions": P(-3, "far field of a loop (dipole) ~ r^-3"),
        "center": P(-3, "far field of a loop (dipole) ~ r^-3"),
        ("radius", _HI): P(-1, "field near the centre mu0 / (2 R) ~ 1/R"),
        ("radius", _LO): P(2, "dipole moment pi R^2: far field ~ R^2"),
    },
    "thermal_noise_std": {
        k: P(0.5, "sigma = sqrt(4 k_B T R df)") for k in ("resistance", "temperature", "bandwidth")
    },
    "add_noise": {"sigma": LINEAR},
    "flip_angle": {"dt": LINEAR},
    "hard": {"flip_angle": LINEAR},
    "sinc": {"flip_angle": LINEAR},
    "hyperbolic_secant": {
        "b1_max": LINEAR,
        ("beta_t", _HI): V(lambda a: np.zeros(32), "sech(beta t) -> 0 at every sample t != 0"),
        ("beta_t", _LO): V(lambda a: np.full(32, a["b1_max"]), "sech -> 1: constant b1_max"),
        ("mu", _LO): SAME,
    },
    "from_waveform": {"dt": P(-1, "rescaled to the flip angle: B1 ~ 1/dt"), "flip_angle": LINEAR},
    "slice_select_gradient": {
        "time_bandwidth": LINEAR,
        "duration": P(-1, "G = TB / (tau gamma_bar dz)"),
        "thickness": P(-1, "G = TB / (tau gamma_bar dz)"),
    },
    "equilibrium_magnetization": {
        "B0": V(
            lambda a: a["proton_density"] * GAMMA_1H * HBAR / 2, "full polarisation n gamma hbar/2"
        ),
        ("temperature", _HI): P(-1, "Curie law M ~ 1/T"),
        ("temperature", _LO): V(
            lambda a: a["proton_density"] * GAMMA_1H * HBAR / 2, "full polarisation n gamma hbar/2"
        ),
        "proton_density": LINEAR,
    },
    "cayley_klein": {
        "dt": Limit("dt -> 0: alpha -> 1, beta ~ gamma B1 dt / 2", power=(0.0, 1.0)),
        "positions": SAME,  # zero gradient: the position drops out
    },
    "Spins": {  # frequency_offset = off_resonance + cs gamma_bar B0 (cs = 0 here)
        "off_resonance": LINEAR,
        **{k: SAME for k in ("positions", "T1", "T2", "M0", "b1", "B0")},
    },
    "epg_cpmg": {
        ("echo_spacing", _HI): ZERO,
        ("echo_spacing", _LO): SAME,
        ("T1", _HI): SAME,
        ("T2", _LO): ZERO,
        "M0": LINEAR,
    },
    "epg_gre": {"TR": SAME, ("T1", _HI): SAME, ("T2", _LO): ZERO, "M0": LINEAR, "TE": ZERO},
    "design.simulate_pulse": {"dt": V(lambda a: np.ones(2), "dt -> 0: no rotation, mz = 1")},
    "design.max_flip_angle": {k: LINEAR for k in ("b1_max", "duration", "b1_scale")},
    "thermal_sigma": {
        **{k: P(0.5, "sigma ~ sqrt(alpha T)") for k in ("alpha", "temperature")},
        **{k: P(-0.5, "sigma ~ 1/sqrt(Ms V dt)") for k in ("Ms", "volume", "dt")},
    },
    "llg": {
        ("dt", _LO): V(
            lambda a: np.tile(a["m0"], (4, 1)), "dt -> 0: m moves by |omega| dt ~ 1e-290", 1e-280
        ),
        ("alpha", _HI): V(
            lambda a: np.tile(a["m0"], (4, 1)), "alpha -> inf: gamma' -> 0, m stays m0"
        ),
    },
    "Micromagnet.evolve": {"dt": V(lambda a: _M0_MM[:1][None], "zero torque: m stays m0")},
    "sw_energy": {"h": P(1, "the Zeeman term -h cos(theta - psi) dominates")},
    "stoner_wohlfarth": {"h": SAME},
    "sw_loop": {"h_max": SAME},
    "anisotropy_field": {"K": LINEAR, "Ms": P(-1, "H_K = 2K/(mu0 Ms)")},
    "thermal_stability": {"K": LINEAR, "V": LINEAR, "T": P(-1, "Delta = K V / (k_B T)")},
    "energy_barrier": {"K": LINEAR, "V": LINEAR, "h": ZERO},
    "retention_time": {
        **{k: V(lambda a: a["tau0"], "Delta -> 0: tau = tau0") for k in ("K", "V", "T")},
        "tau0": LINEAR,
    },
    "brown_escape_time": {
        "Ms": P(1, "tau ~ 1/H_K ~ Ms"),
        "alpha": P(-1, "tau ~ (1 + alpha^2)/alpha"),
        "gamma": P(-1, "tau ~ 1/gamma"),
    },
    "stt_field": {
        "J": LINEAR,
        "eta": LINEAR,
        "Ms": P(-1, "H_dl ~ 1/(Ms d)"),
        "thickness": P(-1, "H_dl ~ 1/(Ms d)"),
    },
    "critical_current_density": {
        **{k: LINEAR for k in ("alpha", "Ms", "thickness", "H_k_eff", "H_ext")},
        "eta": P(-1, "J_c ~ 1/eta"),
    },
    "predicted_moments": {
        "B": P(-1, "b -> inf: E -> 1, mu = -N k_B T / B"),
        ("T", _HI): P(-1, "b -> 0: E ~ b^4/30 ~ T^-2, mu ~ T^-1"),
        ("T", _LO): P(1, "b -> inf: mu = -N k_B T / B"),
        ("size", _HI): SAME,
        ("size", _LO): P(4, "b -> 0: E ~ b^4 ~ size^4"),
        "n_particles": LINEAR,
        ("mass", _HI): P(-2, "b -> 0: E ~ b^4 ~ m^-2"),
        ("mass", _LO): V(
            lambda a: -a["n_particles"] * K_B * a["T"] / a["B"], "b -> inf: -N k_B T / B"
        ),
    },
    "Paramagnet.moment": {
        ("g", _HI): LINEAR,  # saturated: g J
        ("g", _LO): P(2, "Curie: mu ~ g^2 J (J+1) mu_B B / (3 k_B T)"),
        "B": V(lambda a: a["g"] * 1.5, "saturation g J"),
        ("T", _HI): P(-1, "Curie law"),
        ("T", _LO): V(lambda a: a["g"] * 1.5, "saturation g J"),
    },
    "SingleIon.moment": {"B": SAME, "T": SAME},
    "ElectronGas.chemical_potential": {"n": P(2 / 3, "Fermi energy ~ n^(2/3)")},
    "curie_weiss": {"T": P(-1, "C / (T - theta) ~ 1/T"), "C": LINEAR},
    "curie_constant": {"g": P(2, "C ~ g^2"), "n": LINEAR},
    "lattice.Heisenberg.energy": {
        **{k: P(1, "that term of E dominates") for k in ("J", "h", "D", "moments")},
        "axis": SAME,  # only the direction of the axis enters
    },
    "lattice.simulate": {"temperatures": SAME, "axis": SAME},  # T >> |dE|: all moves accepted;
    "lattice.evolve": {"temperature": SAME},  # T << |dE|: none uphill (same as at 1e+-30)
    "lattice.ising_square_metropolis": {"temperature": SAME, "J": SAME, "h": SAME},
    "lattice.weiss": {
        ("T", _HI): V(lambda a: 0.0, "T >> Tc: m = 0"),
        ("T", _LO): V(lambda a: 1.0, "T -> 0: saturation m = 1"),
        ("Tc", _HI): V(lambda a: 1.0, "Tc >> T: saturation m = 1"),
        ("Tc", _LO): V(lambda a: 0.0, "T >> Tc: m = 0"),
        "B": V(lambda a: 1.0, "saturation in a huge field"),
        "g": SAME,  # B = 0: g drops out
    },
    "lattice.mean_field_tc": {"zJ": LINEAR, "S": P(1, "Tc ~ S (S + 1) ~ S for S -> 0")},
    "lattice.classical_exchange": {"J": LINEAR, "S": P(1, "J S (S + 1) ~ J S for S -> 0")},
    "lattice.convert_exchange": {"J": LINEAR, "S": P(1, "J S (S + 1) ~ J S for S -> 0")},
    "lattice.exchange_from_meV": {"J_meV": LINEAR},
    "lattice.exchange_from_K": {"J_K": LINEAR},
}

# --- running and classifying ----------------------------------------------------------------
_ACCEPTED = (ValueError, TypeError, RuntimeError)  # EquinoxRuntimeError, JaxRuntimeError
RESULTS: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
FAILURES: list[str] = []


def _leaves_finite(out) -> bool:
    leaves = [np.asarray(x) for x in jax.tree.leaves(out)]
    return all(np.all(np.isfinite(x)) for x in leaves if x.dtype != bool)


def _check_limit(out, ref, scales, spec: Limit) -> str | None:
    """None if every leaf of ``out`` equals its scale x the same leaf of ``ref`` (within
    ``spec``'s tolerances), else a description of the first disagreement."""
    leaves = jax.tree.leaves(out)
    for a, b, scale in zip(leaves, jax.tree.leaves(ref), scales, strict=True):
        a, b = np.asarray(a), np.broadcast_to(np.asarray(b), np.shape(a))
        if scale != 1.0 and np.any(b == 0):  # a power law with prefactor 0 checks nothing
            return "the moderate-extreme reference is 0: the power law cannot be checked"
        with np.errstate(all="ignore"):
            want = b * scale if b.dtype.kind in "fc" else b
        if not np.allclose(a, want, rtol=spec.rtol, atol=spec.atol):
            return f"got {a.ravel()[:3]}, limit {np.asarray(want).ravel()[:3]}"
    return None


def _classify(call, arg: str, cls: str, verify=None) -> str:
    """Outcome of ``call()``; ``verify(out)`` (1e+-300 classes) returns None when a finite
    result is the checked limit, else why it is wrong."""
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
    if cls not in _LIMIT_CLASSES:
        return "wrong"
    if verify is None:
        return "wrong (finite, but the row states no limit to check it against)"
    why = verify(out)
    return "limit" if why is None else f"wrong ({why})"


def _traced_names(row: Row, args: dict) -> list[str]:
    return [k for k, v in args.items() if k not in row.static and not callable(v)]


def _invalid_values(row: Row):
    for arg, kind in row.kinds.items():
        v = np.asarray(row.args[arg])
        for cls in _KINDS[kind]:
            yield arg, cls, _MAKERS[cls](v if np.iscomplexobj(v) else v.astype(float))
        for cls, value in row.extra.get(arg, {}).items():
            yield arg, cls, np.full_like(v, value, dtype=float)


def _verifier(row: Row, arg: str, cls: str, valid: dict, names: list, jitted):
    """``verify(out)`` for a 1e+-300 class (None when the row states no limit): compares with
    the analytic limit or the same call at the moderate extreme (computed once, jitted)."""
    limits = LIMITS.get(row.name, {})
    spec = limits.get((arg, cls), limits.get(arg))
    if cls not in _LIMIT_CLASSES or spec is None:
        return None
    bad = np.full_like(np.asarray(valid[arg], dtype=float), float(cls))
    cache = []

    def reference():
        if not cache:
            if spec.value is not None:
                ref = spec.value({**valid, arg: bad})
                cache.append((ref, [1.0] * len(jax.tree.leaves(ref))))
            else:
                x = _MODERATE[cls]
                mod = {**valid, arg: np.full_like(bad, x)}
                traced = arg in names and row.jit
                ref = jitted(*[mod[k] for k in names]) if traced else row.fn(**mod)
                n = len(jax.tree.leaves(ref))
                powers = spec.power if isinstance(spec.power, tuple) else (spec.power,) * n
                decades = math.log10(float(cls) / x)
                with np.errstate(over="ignore", under="ignore"):
                    scales = [float(np.power(10.0, decades * p)) for p in powers]
                cache.append((ref, scales))
        return cache[0]

    def verify(out):
        try:
            ref, scale = reference()
        except Exception as e:  # the reference itself must be computable
            return f"reference failed: {type(e).__name__}: {str(e)[:80]}"
        return _check_limit(out, ref, scale, spec)

    return verify


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
        verify = _verifier(row, arg, cls, valid, names, jitted)
        if arg not in names:  # a static argument: eager, and a jit that closes over it
            closed = jax.jit(
                lambda *xs, a=args: row.fn(**{**a, **dict(zip(names, xs, strict=True))})
            )
            out.append((arg, cls, "eager", _classify(lambda a=args: row.fn(**a), arg, cls, verify)))
            out.append((arg, cls, "jit", _classify(lambda c=closed: c(*traced), arg, cls, verify)))
            continue
        second = (
            None if verify is None else (lambda o, v=verify: v(jax.tree.map(lambda y: y[1], o)))
        )
        out.append((arg, cls, "eager", _classify(lambda a=args: row.fn(**a), arg, cls, verify)))
        if row.jit:
            out.append((arg, cls, "jit", _classify(lambda t=traced: jitted(*t), arg, cls, verify)))
        if not row.vmap:
            continue
        # a batch of two: (valid, invalid) for value classes, (invalid, invalid) for the
        # type/shape classes (which cannot share a batch with a valid value)
        pair = (bad, bad) if cls in _TYPE_CLASSES else (valid[arg], bad)
        batch = [np.stack(pair) if k == arg else np.stack([valid[k]] * 2) for k in names]
        out.append((arg, cls, "vmap", _classify(lambda b=batch: batched(*b), arg, cls, second)))
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
    print("r = raised with a clear error naming the argument, l = checked limit (1e+-300),")
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
    counts = ", ".join(
        f"{label} {total[k]}"
        for k, label in (
            ("raised", "raised"),
            ("limit", "checked limit"),
            ("nan", "nan"),
            ("wrong", "wrong"),
            ("foreign", "foreign"),
        )
    )
    print(f"\n{len(ROWS)} entry points, {n} runs: {counts}")
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


def test_limit_check_fails_on_a_wrong_finite_number(monkeypatch):
    """The 1e+-300 outcome "limit" is a checked limit: 1 - exp(-TR/T1) (rounds to 0 for
    TR << T1) is classified wrong against the analytic TR/T1 law, -expm1(-TR/T1) passes."""
    import jax.numpy as jnp

    law = {"TR": P(1, "1 - exp(-TR/T1) ~ TR/T1")}
    for name, fn, want in (
        ("naive 1 - E1", lambda TR, T1: 1.0 - jnp.exp(-TR / T1), "wrong"),
        ("expm1", lambda TR, T1: -jnp.expm1(-TR / T1), "limit"),
    ):
        monkeypatch.setitem(LIMITS, name, law)
        row = Row(name, fn, dict(TR=0.01, T1=1.0), dict(TR="pos"))
        got = {(cls, mode): o.split(" ")[0] for _, cls, mode, o in _run_row(row)}
        assert got[("1e-300", "eager")] == got[("1e-300", "jit")] == want
        assert got[("1e-300", "vmap")] == want
    # and a row without a stated limit cannot pass a finite 1e300 result
    monkeypatch.setitem(LIMITS, "unstated", {})
    row = Row("unstated", lambda x: x * 0.0, dict(x=1.0), dict(x="pos"))
    assert any(o.startswith("wrong") for _, cls, _, o in _run_row(row) if cls == "1e300")


def test_llg_step_stiffness_bound():
    """A macrospin relaxing in a constant field follows the exact solution
    tan(theta/2) = tan(theta0/2) exp(-alpha gamma' mu0 H t) at a stiffness
    s = gamma mu0 H dt / sqrt(1 + alpha^2) = 1.9 < LLG_MAX_STEP, and s = 2.5 is refused."""
    from netmag_jax import constants as C

    H, alpha, th0, n = 1e5, 0.1, 1.0, 200
    w = dyn.GAMMA_E * C.MU_0 * H
    m0 = np.array([np.sin(th0), 0.0, np.cos(th0)])
    dt = 1.9 * math.sqrt(1 + alpha**2) / w
    mz = float(dyn.llg(m0, np.array([0.0, 0.0, H]), dt, n, alpha=alpha).m[-1, 2])
    rate = alpha * w / (1 + alpha**2)
    th = 2 * np.arctan(np.tan(th0 / 2) * np.exp(-rate * n * dt))
    assert abs(mz - np.cos(th)) < 1e-6
    with pytest.raises(Exception, match="dt"):
        dyn.llg(m0, np.array([0.0, 0.0, H]), 2.5 * math.sqrt(1 + alpha**2) / w, 4, alpha=alpha)


def test_paramagnet_moment_at_large_and_small_x_under_jit():
    """g J B_J(x) under jit: saturation g J at x ~ 1e30 (ln Z by max-subtracted log-sum-exp
    gave NaN there: fused multiply-add), and the Curie law g^2 mu_B J (J+1) B / (3 k_B T) at
    x ~ 1e-30 (the derivative of ln Z lost it to round-off)."""
    from netmag_jax.constants import MU_B

    pm = statmech.Paramagnet(1.5, 2.0)
    moment = jax.jit(lambda B, T: pm.moment(B, T))
    np.testing.assert_allclose(moment(1e30, 2.0), 3.0, rtol=1e-15)
    curie = 2.0**2 * MU_B * 1.5 * 2.5 * 1.0 / (3 * K_B * 1e30)
    np.testing.assert_allclose(moment(1.0, 1e30), curie, rtol=1e-12)


def test_fit_models_are_documented_nan_adapters():
    """The fit model functions are exempt from value checks and say so in their docstring."""
    from netmag_jax.fit import _models

    names = [n for n in dir(_models) if not n.startswith("_") and callable(getattr(_models, n))]
    public = [n for n in names if getattr(fit, n, None) is getattr(_models, n)]
    assert len(public) >= 8
    for n in public:
        assert "NaN-in/NaN-out" in getattr(_models, n).__doc__, n
