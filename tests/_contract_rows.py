"""The rows of ``test_input_contract``: every public entry point with one valid set of
arguments and the kind of each argument (see that module's docstring for the walk); the
lattice rows follow in ``_contract_rows_lattice``."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import numpy as np

from netmag_jax import classical, fit, mri, statmech
from netmag_jax import dynamics as dyn
from netmag_jax.mri import design


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
_T2_DICT = np.array([0.02, 0.05, 0.1])  # T2 [s] of a 3-entry decay dictionary (rows: entries)
_DICT = np.exp(-_T_FIT[None, :] / _T2_DICT[:, None])


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
    # --- fit (the model functions and the Rician special functions are NaN-in/NaN-out
    # adapters, documented, not rows) ---------------------------------------------------------
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
    Row(  # Y is not walked: a non-finite or all-zero voxel is unmatched (a mask), documented
        "fit.dictionary_match",
        lambda dictionary, params: (lambda r: (r.params, r.scale))(
            fit.dictionary_match(dictionary, params, 2.0 * _DICT[1])
        ),
        dict(dictionary=_DICT, params=_T2_DICT),
        dict(dictionary="cseq", params="finite"),
    ),
]
