"""Scale-out: run a single-sample function over a batch axis sharded across all devices.

Every model in netmag_jax is a single-sample function batched by ``vmap``; the batch axes
(spins, voxels, chains, temperatures, field points) are embarrassingly parallel. This module
puts such a batch on a 1-D device mesh with ``jax.sharding.NamedSharding`` so XLA runs each
device's slice locally:

>>> import jax, jax.numpy as jnp
>>> from netmag_jax.parallel import sharded_vmap
>>> f = sharded_vmap(lambda b: jnp.tanh(b))          # batch over all local devices
>>> f(jnp.linspace(0, 1, 1000)).shape
(1000,)

Batches whose length is not a multiple of the device count are padded (by repeating the
last sample) and trimmed, so any length works. On one device this is ``jit(vmap(fn))``.

Several GPUs on one host: nothing to do, all local devices are used. Several hosts: call
``jax.distributed.initialize()`` at the start of the program on every host (coordinator
address, number of processes and process id from the cluster environment, e.g. SLURM, are
picked up automatically), then build the mesh over ``jax.devices()`` (all hosts' devices);
each host passes the same global batch. Test without GPUs by faking devices on the CPU:
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` before JAX starts.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

BATCH_AXIS = "batch"


def device_mesh(devices=None, axis_name: str = BATCH_AXIS) -> Mesh:
    """A 1-D mesh over ``devices`` (default: all devices of all processes)."""
    devices = jax.devices() if devices is None else list(devices)
    if len(devices) == 0:
        raise ValueError("device_mesh needs at least one device")
    return Mesh(np.asarray(devices), (axis_name,))


def _leading_size(tree) -> int:
    sizes = {np.shape(x)[0] for x in jax.tree_util.tree_leaves(tree) if np.ndim(x) > 0}
    if len(sizes) != 1:
        raise ValueError(f"all batched arguments need the same leading length, got {sorted(sizes)}")
    return sizes.pop()


def _pad(tree, n_pad: int):
    if n_pad == 0:
        return tree
    return jax.tree_util.tree_map(
        lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], n_pad, axis=0)], axis=0), tree
    )


def shard_batch(tree, mesh: Mesh | None = None):
    """Place every leaf of ``tree`` on ``mesh``, split along its leading (batch) axis.

    The leading length must be a multiple of the number of devices (``sharded_vmap`` pads).
    """
    mesh = device_mesh() if mesh is None else mesh
    n_dev = mesh.devices.size
    n = _leading_size(tree)
    if n % n_dev:
        raise ValueError(f"batch length {n} is not a multiple of the {n_dev} devices")
    sharding = NamedSharding(mesh, P(mesh.axis_names[0]))
    return jax.device_put(tree, sharding)


def sharded_vmap(fn: Callable, mesh: Mesh | None = None, in_axes=0) -> Callable:
    """``jit(vmap(fn))`` with the batch sharded over ``mesh``; batched args on axis 0.

    Args:
        fn: single-sample function.
        mesh: 1-D device mesh (default: all devices).
        in_axes: as for ``jax.vmap``, but only ``0`` or ``None`` per positional argument.
    Returns:
        A function of the same arguments with a leading batch axis on the batched ones;
        its outputs have the same leading length as the inputs.
    """
    mesh = device_mesh() if mesh is None else mesh
    n_dev = mesh.devices.size
    batched = jax.jit(jax.vmap(fn, in_axes=in_axes))

    def wrapped(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        if len(axes) != len(args):
            raise ValueError(f"in_axes has {len(axes)} entries for {len(args)} arguments")
        if any(a not in (0, None) for a in axes):
            raise ValueError("sharded_vmap supports in_axes of 0 or None only")
        b_args = [a for a, ax in zip(args, axes, strict=False) if ax == 0]
        n = _leading_size(b_args)
        n_pad = (-n) % n_dev
        b_args = shard_batch(_pad(b_args, n_pad), mesh)
        it = iter(b_args)
        full = [next(it) if ax == 0 else a for a, ax in zip(args, axes, strict=False)]
        out = batched(*full)
        return jax.tree_util.tree_map(lambda y: y[:n], out)

    return wrapped
