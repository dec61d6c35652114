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

from netmag_jax.parallel import device_mesh, map_chunks, pad_batch, shard_batch, sharded_vmap

_SCRIPT = textwrap.dedent(
    """
    import json, jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    from netmag_jax.parallel import sharded_vmap, device_mesh
    from netmag_jax import statmech
    out = {"n_devices": len(jax.devices())}

    # independent moments: Brillouin moment over 1001 (B, T) points (not a multiple of 8)
    B = jnp.linspace(0.0, 9.0, 1001); T = jnp.linspace(1.5, 300.0, 1001)
    f = lambda b, t: statmech.brillouin(3.5, 2.0 * 3.5 * 9.2740100783e-24 * b / (1.380649e-23 * t))
    ref = jax.jit(jax.vmap(f))(B, T)
    sh = sharded_vmap(f)(B, T)
    out["statmech_maxdiff"] = float(jnp.max(jnp.abs(sh - ref)))
    out["statmech_n_shards"] = len(sh.sharding.device_set) if hasattr(sh, "sharding") else 1

    # chunks: 21 rows in chunks of 5 -> 8 rows (a multiple of the 8 devices), 3 chunks
    from netmag_jax.parallel import map_chunks
    shapes, shards = [], []
    def fn(c):
        shapes.append(c["a"].shape[0]); shards.append(len(c["a"].sharding.device_set))
        return {"y": c["a"] * c["b"][:, None]}
    batch = {"a": jnp.arange(42.0).reshape(21, 2), "b": jnp.arange(21.0)}
    y = map_chunks(fn, batch, 5, device_mesh())["y"]
    out["chunk_rows"], out["chunk_shards"] = shapes, shards
    out["chunk_maxdiff"] = float(jnp.max(jnp.abs(y - batch["a"] * batch["b"][:, None])))
    out["chunk_len"] = int(y.shape[0])
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
    assert out["chunk_rows"] == [8, 8, 8] and out["chunk_shards"] == [8, 8, 8]
    assert out["chunk_maxdiff"] == 0.0 and out["chunk_len"] == 21


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


def test_map_chunks_pads_the_last_chunk_and_trims():
    """13 rows in chunks of 5: three calls of 5 rows (the last padded by repeating row 12),
    outputs concatenated and trimmed back to 13 rows, for a pytree batch."""
    seen = []

    def fn(chunk):
        seen.append(np.asarray(chunk[0]).copy())
        return {"s": chunk[0] + chunk[1][:, 0]}

    batch = (jnp.arange(13.0), jnp.arange(26.0).reshape(13, 2))
    out = map_chunks(fn, batch, chunk_size=5)
    np.testing.assert_array_equal(out["s"], np.arange(13.0) + np.arange(0.0, 26.0, 2.0))
    assert [len(s) for s in seen] == [5, 5, 5]
    np.testing.assert_array_equal(seen[-1], [10.0, 11.0, 12.0, 12.0, 12.0])
    with pytest.raises(ValueError, match="chunk_size"):
        map_chunks(fn, batch, chunk_size=0)


def test_pad_batch_and_shard_batch_replicate_scalars():
    """pad_batch repeats the last sample; shard_batch splits leading axes and replicates
    0-d leaves (as mri.shard_spins does with B0)."""
    padded, n = pad_batch({"x": jnp.arange(3.0)}, 4)
    assert n == 3
    np.testing.assert_array_equal(padded["x"], [0.0, 1.0, 2.0, 2.0])
    mesh = device_mesh()
    k = len(mesh.devices.flat)
    tree = shard_batch({"x": jnp.zeros((2 * k, 3)), "B0": jnp.asarray(3.0)}, mesh)
    assert tree["B0"].sharding.is_fully_replicated
    assert len(tree["x"].sharding.device_set) == k
