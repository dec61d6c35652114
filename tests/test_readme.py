"""The README's 30-line API tour runs as written, and its commented numbers are right."""

import math
import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _tour_source() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python block"
    return blocks[0]


@pytest.mark.slow
def test_readme_tour_runs_and_its_numbers_hold():
    ns: dict = {}
    exec(compile(_tour_source(), str(README), "exec"), ns)
    from netmag_jax import constants as c

    # 1. Brillouin: m = g J B_J(x), x = g J mu_B B / k_B T (closed coth form, float64 NumPy)
    J, g = 3.5, 2.0
    x = g * J * c.MU_B * 5.0 / (c.K_B * 2.0)
    a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
    m_ref = g * J * (a / np.tanh(a * x) - b / np.tanh(b * x))
    np.testing.assert_allclose(ns["gd"].moment(B=5.0, T=2.0), m_ref, rtol=1e-10)
    assert abs(m_ref - 6.93) < 0.005
    # Curie law C/T with C = mu0 n g^2 mu_B^2 J(J+1) / (3 k_B)
    C = c.MU_0 * 3.0e28 * g**2 * c.MU_B**2 * J * (J + 1) / (3 * c.K_B)
    np.testing.assert_allclose(ns["gd"].susceptibility(T=300.0), C / 300.0, rtol=1e-4)
    # 2. Onsager-Yang spontaneous magnetization at T = 2 J/k_B: 0.91132 (L = 16: within 4 sigma)
    m_onsager = (1 - math.sinh(2 / 2.0) ** -4) ** 0.125
    m, err = float(ns["obs"].magnetization[0]), float(ns["obs"].magnetization_err[0])
    assert abs(m - m_onsager) < 4 * err + 2e-3
    # 3. FID: free decay between the first and last samples, 63 dwell times of 1 ms
    res = ns["res"]
    np.testing.assert_allclose(
        abs(res.signal[-1]) / abs(res.signal[0]), math.exp(-0.063 / 0.1), rtol=1e-6
    )
    # 4. T2 fit: the truth 0.08 s within 4 standard errors
    r = ns["r"]
    assert bool(r.converged)
    assert abs(float(r.params[1]) - 0.08) < 4 * float(r.stderr[1])
    # 5. design: peak limit respected; far better than the 180 deg hard pulse of the same
    #    duration (gamma B1 T = pi), whose error over +-200 Hz and +-20 % B1 is 1.42
    from netmag_jax.mri import design

    hard = np.full(128, math.pi / (c.GAMMA_1H * 4e-3) + 0j)
    e_hard = design.target_error(ns["target"], hard, 0.0, 4e-3 / 128)
    assert abs(e_hard - 1.42) < 0.01
    assert float(ns["pulse"].peak_b1) <= 15e-6 * (1 + 1e-6)
    assert float(ns["pulse"].target_error) < 0.05
