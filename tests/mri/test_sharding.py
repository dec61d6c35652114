"""The spin axis shards over devices: 8 virtual CPU devices give the single-device result."""

import json
import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import pytest

from netmag_jax import mri

_SCRIPT = textwrap.dedent(
    """
    import json, jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    from netmag_jax import mri
    N = 8 * 50
    z = jnp.linspace(-5e-3, 5e-3, N)
    sp = mri.Spins(z, 0.8, 0.05, M0=1.0, off_resonance=jnp.linspace(-30.0, 30.0, N))
    rf = mri.sinc(1.2, 2e-3, 4.0, 64)
    g = jnp.zeros((64, 3)).at[:, 2].set(2e-3)
    run = jax.jit(lambda s: mri.simulate(rf, g, 2e-3 / 64, s, adc=np.arange(64)))
    ref = run(sp)
    sp_sh = mri.shard_spins(sp)
    sh = run(sp_sh)
    out = {"n_devices": len(jax.devices()),
           "B0_replicated": bool(sp_sh.B0.sharding.is_fully_replicated),
           "n_shards": len(sh.M.sharding.device_set),
           "dM": float(jnp.max(jnp.abs(sh.M - ref.M))),
           "ds": float(jnp.max(jnp.abs(sh.signal - ref.signal)))}
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_sharded_spins_equal_single_device_on_8_virtual_devices():
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu"
    )
    r = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=os.getcwd(),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["n_devices"] == 8 and out["n_shards"] == 8 and out["B0_replicated"]
    assert out["dM"] < 1e-13 and out["ds"] < 1e-11


def test_shard_spins_needs_multiple_of_devices():
    import jax

    sp = mri.Spins(jnp.zeros((len(jax.devices()) * 3 + 1, 3)), 1.0, 0.1, M0=1.0)
    if len(jax.devices()) > 1:
        with pytest.raises(ValueError, match="multiple"):
            mri.shard_spins(sp)
    else:
        assert mri.shard_spins(sp).n == sp.n
