"""The checked limits of ``test_input_contract``: for each entry point, what a finite result
for an argument of 1e300 / 1e-300 must equal (an analytic value, or the asymptotic power law
against the same call at 1e+-30)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from _contract_rows import _M0_MM

from netmag_jax.constants import GAMMA_1H, HBAR, K_B


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
    # (T_N, theta): T_N = sqrt(c_A c_B a_AB a_BA), theta = 2 n_A g_A g_B c_A c_B a_AB /
    # (n_A g_A^2 c_A + n_B g_B^2 c_B) at a_AA = a_BB = 0, c = J (J + 1)/3, a_BA = a_AB n_A/n_B
    "lattice.TwoSublattice": {
        **{
            (k, _LO): Limit("c ~ J/3: T_N ~ sqrt(J), theta ~ J", power=(0.5, 1.0))
            for k in ("J_A", "J_B")
        },
        **{
            (k, _HI): Limit("g drops out of T_N; theta ~ 1/g", power=(0.0, -1.0))
            for k in ("g_A", "g_B")
        },
        **{
            (k, _LO): Limit("g drops out of T_N; theta ~ g", power=(0.0, 1.0))
            for k in ("g_A", "g_B")
        },
        ("n_A", _HI): Limit("T_N ~ sqrt(n_A); theta -> its n_A-limit", power=(0.5, 0.0)),
        ("n_A", _LO): Limit("T_N ~ sqrt(n_A); theta ~ n_A", power=(0.5, 1.0)),
        ("n_B", _HI): Limit("T_N ~ 1/sqrt(n_B); theta ~ 1/n_B", power=(-0.5, -1.0)),
        ("n_B", _LO): Limit("T_N ~ 1/sqrt(n_B); theta -> its n_B-limit", power=(-0.5, 0.0)),
    },
    "lattice.TwoSublattice.solve": {  # the antiferromagnet J = 1/2, g = 2, T_N = 1 K
        ("T", _HI): V(lambda a: (0.0, 0.0), "paramagnet at B = 0: M_A = M_B = 0"),
        ("T", _LO): V(lambda a: (1.0, -1.0), "ground state: M = +-g J = +-1 mu_B"),
        ("B", _HI): V(lambda a: (1.0, 1.0), "saturated along B: M_A = M_B = g J = 1 mu_B"),
    },
    "fit.dictionary_match": {
        "params": V(
            lambda a: (a["params"][[1]], 2.0), "passed through: entry 1's params, scale y/d = 2"
        )
    },
}
