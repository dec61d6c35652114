"""Sequences vs closed-form steady states, and EPG vs the isochromat engine."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import mri

Z3 = jnp.zeros((1, 3))


def test_ernst_formula_spoiled_gre_steady_state():
    """Perfectly spoiled GRE (T2 << TR) reaches Ernst's S = M0 sin a (1-E1)/(1-E1 cos a)."""
    T1, T2, TR, a, TE = 0.2, 1e-4, 10e-3, math.radians(30), 1e-8
    sp = mri.Spins(Z3, T1, T2, M0=1.0)
    seq = mri.gre(a, TR, TE, 150, spoil_increment_deg=0.0, pulse_duration=1e-8)
    s = seq.simulate(sp).signal
    ref = float(mri.ernst_signal(a, TR, T1)) * math.exp(-TE / T2)
    assert float(jnp.abs(s[-1])) == pytest.approx(ref, rel=3e-4)


def test_ernst_angle_maximises_signal():
    """d S / d alpha = 0 at the Ernst angle arccos(E1)."""
    TR, T1 = 5e-3, 0.8
    ae = mri.ernst_angle(TR, T1)
    assert float(ae) == pytest.approx(math.acos(math.exp(-TR / T1)), rel=1e-14)
    assert abs(float(jax.grad(mri.ernst_signal)(ae, TR, T1))) < 1e-12
    assert float(jax.grad(mri.ernst_signal)(ae * 0.8, TR, T1)) > 0


def test_bssfp_freeman_hill_vs_engine_and_closed_form():
    """bSSFP: engine steady state = Freeman-Hill fixed point per off-resonance; on resonance the
    fixed point equals M0 sin a (1-E1) sqrt(E2) / (1 - (E1-E2) cos a - E1 E2)."""
    T1, T2, TR, a = 0.15, 0.05, 5e-3, math.radians(40)
    dfs = jnp.array([0.0, 30.0, 70.0, -110.0])
    sp = mri.Spins(jnp.zeros((4, 3)), T1, T2, M0=1.0, off_resonance=dfs)
    seq = mri.bssfp(a, TR, 300, pulse_duration=1e-8)
    s = seq.simulate(sp, coils=jnp.eye(4, dtype=jnp.complex128)).signal[:, -1]
    ref = jnp.stack([mri.bssfp_signal(a, TR, T1, T2, df) for df in dfs])
    np.testing.assert_allclose(s, ref, atol=2e-5)
    on = mri.bssfp_signal_on_resonance(a, TR, T1, T2)
    assert float(jnp.abs(ref[0])) == pytest.approx(float(on), rel=1e-12)


def _cycle_spins(N=48, L=1e-3, T1=1.0, T2=0.1):
    z = (np.arange(N) + 0.5) / N * L
    return mri.Spins(jnp.asarray(z), T1, T2, M0=1.0), L


def test_epg_cpmg_hennig_first_echo():
    """CPMG, 120 deg refocusing: the first echo is sin^2(a/2) exp(-ESP/T2) (spin echo with an
    imperfect refocusing pulse). EPG = isochromats for this train is checked to 1e-4 in the
    mri_signal experiment test."""
    alpha, esp, n = math.radians(120), 10e-3, 8
    epg = mri.epg_cpmg(jnp.full(n, alpha), esp, 1.0, 0.1)
    assert float(epg[0].imag) == pytest.approx(
        math.sin(alpha / 2) ** 2 * math.exp(-esp / 0.1), rel=1e-12
    )
    # stimulated echoes make the train non-monotonic: echo 2 > echo 1 (Hennig's pattern)
    assert float(epg[1].imag) > float(epg[0].imag)


def test_epg_cpmg_perfect_refocusing_is_exponential():
    """With 180 deg refocusing the CPMG train is exp(-n ESP / T2) exactly."""
    e = mri.epg_cpmg(jnp.full(6, math.pi), 8e-3, 1.2, 0.07)
    np.testing.assert_allclose(e, 1j * np.exp(-8e-3 * np.arange(1, 7) / 0.07), atol=1e-14)


def test_epg_rf_spoiled_gre_equals_isochromats():
    """RF-spoiled (117 deg) GRE with one gradient cycle per TR: EPG = isochromat average."""
    sp, L = _cycle_spins(N=64, T1=0.5, T2=0.05)
    nTR, TR, TE, a = 30, 5e-3, 2e-3, math.radians(15)
    seq = mri.gre(a, TR, TE, nTR, spoiler_moment=(0.0, 0.0, 1.0 / L), pulse_duration=1e-8)
    iso = seq.simulate(sp).signal / sp.n
    epg = mri.epg_gre(
        jnp.full(nTR, a), jnp.asarray(mri.rf_spoiling_phases(nTR)), TR, 0.5, 0.05, TE=TE
    )
    np.testing.assert_allclose(iso, epg, atol=1e-6)


def test_epg_invalid_input():
    with pytest.raises(ValueError):
        mri.epg_cpmg(jnp.zeros((2, 2)), 1e-2, 1.0, 0.1)
    with pytest.raises(ValueError):
        mri.epg_gre(jnp.zeros(3), jnp.zeros(4), 1e-2, 1.0, 0.1)
    import equinox as eqx

    with pytest.raises(eqx.EquinoxRuntimeError):
        mri.epg_cpmg(jnp.ones(2), 1e-2, 0.1, 0.5)  # T2 > 2 T1


def test_sequence_timing_errors():
    with pytest.raises(ValueError):
        mri.spin_echo(1e-6)
    with pytest.raises(ValueError):
        mri.cpmg(4, 1e-6)
    with pytest.raises(ValueError):
        mri.gre(0.3, 5e-3, 6e-3, 4)
    with pytest.raises(ValueError):
        mri.cartesian_gre((0.2, 0.2), (8, 8), TE=1e-4)
