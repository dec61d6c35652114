"""Bohr-van Leeuwen by Langevin simulation: statistical checks with fixed keys.

References: total moment 0 (B-independent classical partition function); interior and edge
moments -/+ N (k_B T/B) E(b) and interior fraction F(b) (exact ensemble averages, see
``netmag_jax.classical._moments``); <v^2> = 2 k_B T / m and v^2 m/(2 k_B T) ~ Exp(1)
(2D Maxwell); uniform density in the box. Tolerances: 4 standard errors for comparisons
with a prediction, 3 for "consistent with zero", 5 for "clearly non-zero".
"""

import equinox as eqx
import jax
import numpy as np
import pytest
from scipy import stats

from netmag_jax import constants as const
from netmag_jax.classical import predicted_moments, simulate_charges

T = 1.0  # K
R = 0.1e-6  # m: disk radius 100 nm, about 4.5 thermal cyclotron radii at 1 T
N, STEPS = 2000, 1000
V2 = 2 * const.K_B * T / const.M_E


def _run(key, B, geometry="disk", size=R, **kw):
    kw.setdefault("n_particles", N)
    kw.setdefault("n_steps", STEPS)
    return simulate_charges(jax.random.key(key), B, T, size, geometry=geometry, **kw)


@pytest.mark.slow
@pytest.mark.parametrize(
    "B,geometry,size,key",
    [
        (0.5, "disk", R, 11),
        (1.0, "disk", R, 12),
        (2.0, "disk", R, 13),
        (-1.0, "disk", R, 14),
        (1.0, "square", 2 * R, 15),
    ],
)
def test_bohr_van_leeuwen_interior_edge_total(B, geometry, size, key):
    """Total ~ 0 (< 3 sigma); interior diamagnetic and edge paramagnetic, each > 5 sigma, with
    the exact interior/edge values and the interior fraction within 4 sigma."""
    res = _run(key, B, geometry, size)
    pred = predicted_moments(B, T, size, N, geometry)
    s = np.sign(B)
    assert abs(float(res.total)) < 3 * float(res.total_err)
    assert s * float(res.interior) < -5 * float(res.interior_err)
    assert s * float(res.edge) > 5 * float(res.edge_err)
    assert abs(float(res.interior - pred.interior)) < 4 * float(res.interior_err)
    assert abs(float(res.edge - pred.edge)) < 4 * float(res.edge_err)
    assert abs(float(res.interior_fraction - pred.interior_fraction)) < 4 * float(
        res.interior_fraction_err
    )
    assert abs(float(res.v2) - V2) < 4 * float(res.v2_err)


def test_zero_field_gives_no_signal():
    """B = 0: no closed orbits (interior exactly 0, fraction 0), total and edge ~ 0."""
    res = _run(21, 0.0)
    assert float(res.interior) == 0.0 and float(res.interior_fraction) == 0.0
    assert abs(float(res.total)) < 3 * float(res.total_err)
    assert abs(float(res.edge)) < 3 * float(res.edge_err)
    p = predicted_moments(0.0, T, R, N)
    assert float(p.interior) == 0.0 and float(p.interior_fraction) == 0.0


@pytest.mark.slow
def test_thermostat_gives_maxwellian_and_uniform_density_from_cold_start():
    """Start at rest; after ~8/gamma of burn-in: <v^2> = 2 k_B T/m (2D equipartition) within
    4 sigma, v^2 m/(2 k_B T) ~ Exp(1) and each component ~ N(0, k_B T/m) (KS tests), and
    r^2/R^2 ~ U(0, 1) (uniform density in the disk)."""
    res = _run(31, 1.0, init="cold", n_burn=400, n_steps=100, n_particles=1500)
    assert abs(float(res.v2) - V2) < 4 * float(res.v2_err)
    v = np.asarray(res.velocities)
    u = (v**2).sum(axis=1) / V2
    assert stats.kstest(u, "expon").pvalue > 1e-3
    vth = np.sqrt(const.K_B * T / const.M_E)
    assert stats.kstest(v[:, 0] / vth, "norm").pvalue > 1e-3
    assert stats.kstest(v[:, 1] / vth, "norm").pvalue > 1e-3
    r2 = (np.asarray(res.positions) ** 2).sum(axis=1) / R**2
    assert r2.max() <= 1.0
    assert stats.kstest(r2, "uniform").pvalue > 1e-3


def test_same_key_same_result():
    """Fixed key -> bit-identical result; another key -> a different sample."""
    a, b, c = _run(41, 1.0), _run(41, 1.0), _run(42, 1.0)
    np.testing.assert_array_equal(np.asarray(a.positions), np.asarray(b.positions))
    assert float(a.total) == float(b.total) and float(a.edge_err) == float(b.edge_err)
    assert float(a.total) != float(c.total)


SMALL = dict(n_particles=10, n_steps=5, n_record=2)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(T=0.0), "T must"),
        (dict(T=-1.0), "T must"),
        (dict(mass=0.0), "mass must"),
        (dict(mass=-1e-30), "mass must"),
        (dict(size=0.0), "size must"),
        (dict(size=-1e-6), "size must"),
        (dict(dt=1e-11), "cyclotron"),
        (dict(dt=-1e-15), "dt must"),
        (dict(dt=1e-9, B=0.0), "thermal flight"),
        (dict(friction=-1.0), "friction"),
        (dict(geometry="hexagon"), "geometry"),
        (dict(init="hot"), "init"),
        (dict(n_particles=1), "n_particles"),
        (dict(n_steps=0), "n_steps"),
        (dict(n_record=11), "n_record"),
        (dict(B=np.ones(2)), "B must have"),
        (dict(T=float("nan")), "T must"),
        (dict(B=float("inf")), "B must be finite"),
    ],
)
def test_bad_input_raises_before_tracing(kw, match):
    args = dict(B=1.0, T=1.0, size=R)
    args.update({k: kw.pop(k) for k in ("B", "T", "size") if k in kw})
    with pytest.raises(ValueError, match=match):
        simulate_charges(jax.random.key(0), args["B"], args["T"], args["size"], **{**SMALL, **kw})


def test_traced_inputs_initial_state_and_bad_values_raise():
    """Under jit with traced T, mass, size, dt and initial positions: the given start is used
    (without bath the first step moves each charge by exactly |v0| dt: the half rotations
    keep |v|, the flight is straight), and bad values are caught by eqx.error_if."""
    r0 = np.linspace(-0.6, 0.6, 20).reshape(10, 2) * R
    v0 = np.linspace(-2.0, 2.0, 20).reshape(10, 2) * np.sqrt(const.K_B * T / const.M_E)

    @eqx.filter_jit
    def f(T, mass, size, dt, positions):
        return simulate_charges(
            jax.random.key(0),
            1.0,
            T,
            size,
            mass=mass,
            dt=dt,
            friction=0.0,
            positions=positions,
            velocities=v0,
            **SMALL,
        )

    good = dict(T=1.0, mass=const.M_E, size=R, dt=1e-13, positions=r0)
    res = f(**good)
    moved = np.linalg.norm(np.asarray(res.trajectory[0]) - r0[:2], axis=-1)
    np.testing.assert_allclose(moved, np.linalg.norm(v0[:2], axis=-1) * 1e-13, rtol=1e-9)
    for name, value, match in [
        ("T", -1.0, "T must"),
        ("mass", -1e-30, "mass must"),
        ("size", 0.0, "size must"),
        ("dt", 1e-11, "cyclotron"),
        ("positions", 3 * r0, "inside the box"),
    ]:
        with pytest.raises(Exception, match=match):
            f(**{**good, name: value})
    with pytest.raises(ValueError, match="positions must have shape"):
        simulate_charges(jax.random.key(0), 1.0, T, R, positions=r0[:3], **SMALL)


def test_vmap_over_keys_matches_single_runs():
    """Independent runs batched with vmap over keys equal the runs one by one."""
    keys = jax.random.split(jax.random.key(5), 2)
    batched = jax.vmap(lambda k: simulate_charges(k, 1.0, T, R, **SMALL))(keys)
    for i in range(2):
        one = simulate_charges(keys[i], 1.0, T, R, **SMALL)
        np.testing.assert_allclose(
            np.asarray(batched.trajectory[i]), np.asarray(one.trajectory), rtol=1e-12
        )
        np.testing.assert_allclose(
            float(batched.interior_err[i]), float(one.interior_err), rtol=1e-10
        )
