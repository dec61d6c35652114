"""Pulses (flip angle, small-tip slice profile, adiabatic inversion) and the receive chain."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax import mri
from netmag_jax.constants import GAMMA_1H, K_B


def test_pulse_areas_give_flip_angle():
    """gamma sum(B1) dt = requested flip for hard, sinc, gaussian (on-resonance area rule)."""
    for rf, n in [
        (mri.hard(0.5, 1e-3, 4), 4),
        (mri.sinc(0.5, 2e-3, 6.0, 200), 200),
        (mri.gaussian(0.5, 2e-3, 100), 100),
        (mri.sinc(0.5, 2e-3, 3.0, 64, "hann"), 64),
    ]:
        dur = 1e-3 if n == 4 else 2e-3
        assert float(mri.flip_angle(rf, dur / n)) == pytest.approx(0.5, rel=1e-12)


def test_from_waveform_units():
    """Hz (gamma_bar B1) and rad (gamma B1 dt) conversions to tesla."""
    w = jnp.array([1.0, 2.0])
    np.testing.assert_allclose(mri.from_waveform(w, 1e-5, unit="Hz"), 2 * np.pi * w / GAMMA_1H)
    np.testing.assert_allclose(mri.from_waveform(w, 1e-5, unit="rad"), w / (GAMMA_1H * 1e-5))
    rf = mri.from_waveform(w, 1e-5, flip_angle=0.3)
    assert float(mri.flip_angle(rf, 1e-5)) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        mri.from_waveform(w, 1e-5, unit="G")
    with pytest.raises(ValueError):
        mri.sinc(0.5, 1e-3, window="kaiser")


def test_sinc_slice_profile_small_tip_fourier():
    """Small tip: Mxy(z) = i gamma M0 sum_k B1_k exp(-i gamma G z (T - t_k)) dt (linear Bloch);
    the slice (FWHM of |Mxy|) is TB / (tau gamma_bar G) thick."""
    tau, tb, n, d = 2e-3, 4.0, 128, 5e-3
    rf = mri.sinc(0.05, tau, tb, n)
    G = float(mri.slice_select_gradient(tb, tau, d))
    z = jnp.linspace(-1.5 * d, 1.5 * d, 61)
    sp = mri.Spins(jnp.stack([0 * z, 0 * z, z], -1), 1e6, 1e6, M0=1.0)
    g = jnp.zeros((n, 3)).at[:, 2].set(G)
    M = np.asarray(mri.simulate(rf, g, tau / n, sp).M)
    mxy = M[:, 0] + 1j * M[:, 1]
    dt = tau / n
    t_end = (np.arange(n) + 1) * dt  # rotation of step k applies over its own interval
    t_mid = t_end - dt / 2
    lin = (
        1j
        * GAMMA_1H
        * np.sum(
            np.asarray(rf)[None, :]
            * np.exp(-1j * GAMMA_1H * G * np.asarray(z)[:, None] * (tau - t_mid[None, :])),
            axis=1,
        )
        * dt
    )
    np.testing.assert_allclose(mxy, lin, atol=2e-3 * np.abs(lin).max())
    prof = np.abs(mxy)
    inside = np.asarray(z)[prof > prof.max() / 2]
    assert inside.max() - inside.min() == pytest.approx(d, rel=0.1)


def test_hyperbolic_secant_adiabatic_inversion():
    """HS pulse inverts (Mz ~ -M0) in-band for any B1 above threshold (B1 scale 1 and 2)."""
    tau, n = 10e-3, 400
    rf = mri.hyperbolic_secant(tau, n, b1_max=2e-5, beta_t=5.3, mu=5.0)
    bw = 5.0 * 5.3 / (tau / 2) / np.pi  # mu beta / pi [Hz]
    df = jnp.array([0.0, 0.25 * bw, 0.0, 3 * bw])
    b1 = jnp.array([1.0, 1.0, 2.0, 1.0])
    sp = mri.Spins(jnp.zeros((4, 3)), 1e6, 1e6, M0=1.0, off_resonance=df, b1=b1)
    Mz = np.asarray(mri.simulate(rf, jnp.zeros((n, 3)), tau / n, sp).M[:, 2])
    assert np.all(Mz[:3] < -0.95)
    assert Mz[3] > 0.95


def test_induced_emf_is_faraday_derivative_of_flux():
    """emf = -dPhi/dt with Phi = b V Re(Mxy e^{-i w0 t}) (reciprocity), by finite differences."""
    B0, b, V, mxy = 3.0, 2e-6, 1e-9, 4e-3 * np.exp(0.7j)
    w0 = GAMMA_1H * B0
    E = complex(mri.induced_emf(jnp.asarray(mxy), B0, b, V))
    t, h = 1.234e-9, 1e-13
    phi = lambda tt: b * V * np.real(mxy * np.exp(-1j * w0 * tt))  # noqa: E731
    emf_fd = -(phi(t + h) - phi(t - h)) / (2 * h)
    assert np.real(E * np.exp(-1j * w0 * t)) == pytest.approx(emf_fd, rel=1e-5)
    assert abs(E) == pytest.approx(w0 * b * V * abs(mxy), rel=1e-14)


def test_thermal_noise_and_add_noise():
    """Johnson noise sqrt(4 k T R df); add_noise has the requested sigma (stat. error ~0.5%)."""
    assert float(mri.thermal_noise_std(50.0, 300.0, 1e5)) == pytest.approx(
        math.sqrt(4 * K_B * 300 * 50 * 1e5), rel=1e-14
    )
    key = jax.random.PRNGKey(0)
    s = jnp.zeros(20000, jnp.complex128).at[0].set(2.0)
    y = mri.add_noise(key, s, snr=4.0)
    sig = np.std(np.asarray(y[1:]).real)
    assert sig == pytest.approx(0.5, rel=0.03)
    np.testing.assert_array_equal(y, mri.add_noise(key, s, snr=4.0))
    with pytest.raises(ValueError):
        mri.add_noise(key, s)


def test_multicoil_signal_is_sensitivity_weighted_sum():
    """Coil c receives sum_j C_cj Mxy_j (demodulated), for an 8-coil ring array."""
    pos = jnp.array([[0.0, 0.0, 0.0], [0.03, -0.02, 0.0], [-0.05, 0.04, 0.0]])
    C = mri.coil_sensitivities(pos, 8, 0.15)
    assert C.shape == (8, 3)
    np.testing.assert_allclose(np.abs(C[:, 0]), 1.0, rtol=1e-12)
    sp = mri.Spins(
        pos, 1.0, 0.1, M0=jnp.array([1.0, 2.0, 3.0]), off_resonance=jnp.array([0.0, 10.0, -20.0])
    )
    res = mri.fid(n_samples=3, dwell=1e-3).simulate(sp, coils=C, record_magnetization=True)
    M = np.asarray(res.M_adc)
    ref = np.asarray(C) @ (M[..., 0] + 1j * M[..., 1]).T
    np.testing.assert_allclose(res.signal, ref, rtol=1e-12)


# --- issue 17 regressions: values checked, no silent NaN or wrong number -------------------------
def test_epg_negative_echo_spacing_is_an_error():
    """epg_cpmg(..., -0.01, 1.0, 0.1) gave echoes above M0 (exp(+t/T2) growth); now an error
    naming echo_spacing, eagerly and under jit. A valid train stays below M0 (|F| <= M0)."""
    a = jnp.full(4, math.pi)
    with pytest.raises(RuntimeError, match="echo_spacing"):
        mri.epg_cpmg(a, -0.01, 1.0, 0.1)
    with pytest.raises(RuntimeError, match="echo_spacing"):
        jax.jit(lambda esp: mri.epg_cpmg(a, esp, 1.0, 0.1))(-0.01).block_until_ready()
    echoes = mri.epg_cpmg(a, 0.01, 1.0, 0.1)
    # perfect 180s: echo n is exp(-n ESP / T2) (Carr-Purcell, no stimulated echoes)
    np.testing.assert_allclose(jnp.abs(echoes), np.exp(-0.01 * np.arange(1, 5) / 0.1), rtol=1e-12)


def test_spins_b0_nan_is_an_error():
    """Spins(..., B0=nan) made every signal NaN without an error; now B0 must be finite and > 0."""
    for B0 in (float("nan"), 0.0, -3.0, float("inf")):
        with pytest.raises(RuntimeError, match="B0"):
            mri.Spins(jnp.zeros((1, 3)), 1.0, 0.1, B0=B0)
    assert float(mri.Spins(jnp.zeros((1, 3)), 1.0, 0.1, B0=1.5).B0) == 1.5


def test_bssfp_on_resonance_short_tr_limit():
    """TR -> 0 gave 0/0 = NaN; written with expm1 the closed form has its limit
    sin(a) (1/T1) / ((1/T1 + 1/T2) - (1/T2 - 1/T1) cos a) (first order in TR), and agrees
    with the 3x3 fixed point (bssfp_signal) at an ordinary TR."""
    a, T1, T2 = 0.5, 1.0, 0.1
    lim = math.sin(a) / T1 / ((1 / T1 + 1 / T2) - (1 / T2 - 1 / T1) * math.cos(a))
    np.testing.assert_allclose(mri.bssfp_signal_on_resonance(a, 1e-300, T1, T2), lim, rtol=1e-12)
    np.testing.assert_allclose(
        mri.bssfp_signal_on_resonance(a, 5e-3, T1, T2),
        abs(mri.bssfp_signal(a, 5e-3, T1, T2)),
        rtol=1e-10,
    )


def test_loop_coil_b1_centre_and_no_overflow():
    """On-axis loop field mu0 a^2 / (2 (a^2 + d^2)^(3/2)) (Biot-Savart): at the centre
    mu0 / (2a); no overflow for a = 1e300 (mu0 / 2e300) or a = 1e-300 at d = 0."""
    from netmag_jax.constants import MU_0

    p = jnp.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.03]])
    b = mri.loop_coil_b1(p, jnp.zeros(3), 0.05)
    np.testing.assert_allclose(
        b, MU_0 * 0.05**2 / (2 * (0.05**2 + np.array([0, 0.03]) ** 2) ** 1.5)
    )
    np.testing.assert_allclose(mri.loop_coil_b1(p[:1], jnp.zeros(3), 1e300), MU_0 / 2e300)
    np.testing.assert_allclose(mri.loop_coil_b1(p[:1], jnp.zeros(3), 1e-300), MU_0 / 2e-300)
    with pytest.raises(RuntimeError, match="normal"):
        mri.loop_coil_b1(p, jnp.zeros(3), 0.05, normal=(0.0, 0.0, 0.0))
