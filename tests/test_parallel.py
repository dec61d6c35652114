"""Scale-out: sharded and single-device results agree on 8 virtual CPU devices.

XLA's device count is fixed when JAX starts, so the 8-device runs happen in a subprocess
with XLA_FLAGS=--xla_force_host_platform_device_count=8.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

from netmag_jax.parallel import device_mesh, shard_batch, sharded_vmap

_SCRIPT = textwrap.dedent(
    """
    import json, jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    from netmag_jax.parallel import sharded_vmap, device_mesh
    from netmag_jax import statmech
    out = {"n_devices": len(jax.devices())}

    # independent moments: Brillouin moment over a batch of (B, T) points
    # (1001: not a multiple of 8)
    B = jnp.linspace(0.0, 9.0, 1001); T = jnp.linspace(1.5, 300.0, 1001)
    f = lambda b, t: statmech.brillouin(3.5, 2.0 * 3.5 * 9.2740100783e-24 * b / (1.380649e-23 * t))
    ref = jax.jit(jax.vmap(f))(B, T)
    sh = sharded_vmap(f)(B, T)
    out["statmech_maxdiff"] = float(jnp.max(jnp.abs(sh - ref)))
    out["statmech_n_shards"] = len(sh.sharding.device_set) if hasattr(sh, "sharding") else 1
    print(json.dumps(out))
    """
)


def _run_on_8_devices(script: str) -> dict:
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu"
    )
    r = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_sharded_equals_single_device_on_8_virtual_devices():
    out = _run_on_8_devices(_SCRIPT)
    assert out["n_devices"] == 8
    assert out["statmech_n_shards"] == 8
    assert out["statmech_maxdiff"] <= 1e-15


def test_sharded_vmap_pads_and_trims_on_one_device():
    x = jnp.arange(13.0)
    y = sharded_vmap(lambda a, s: a * s, in_axes=(0, None))(x, 2.0)
    np.testing.assert_array_equal(y, 2.0 * np.arange(13.0))


def test_shard_batch_errors():
    mesh = device_mesh()
    with pytest.raises(ValueError, match="same leading length"):
        shard_batch([jnp.zeros(3), jnp.zeros(4)], mesh)
    with pytest.raises(ValueError, match="in_axes"):
        sharded_vmap(lambda a: a, in_axes=(1,))(jnp.zeros((2, 2)))
