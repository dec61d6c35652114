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

One helper does the chunk / pad / shard work for the whole package: ``map_chunks`` cuts a
batch (any pytree whose leaves share a leading length) into chunks, pads the last one (by
repeating the last sample) to a multiple of the device count, places every chunk on the
devices with ``shard_batch`` and trims the padding from the results. ``sharded_vmap`` (one
chunk), ``fit.fit_voxels`` (memory-bounded chunks of voxels) and ``mri.shard_spins`` use it.
On one device ``sharded_vmap`` is ``jit(vmap(fn))``.

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
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P, Sharding

BATCH_AXIS = "batch"


def device_mesh(devices=None, axis_name: str = BATCH_AXIS) -> Mesh:
    """A 1-D mesh over ``devices`` (default: all devices of all processes)."""
    devices = jax.devices() if devices is None else list(devices)
    if len(devices) == 0:
        raise ValueError("device_mesh needs at least one device")
    return Mesh(np.asarray(devices), (axis_name,))


def n_shards(sharding: Mesh | Sharding) -> int:
    """Number of pieces a batch is split into: the first mesh axis, or the devices of a
    ``Sharding``."""
    if isinstance(sharding, Mesh):
        return int(sharding.devices.shape[0])
    if isinstance(sharding, Sharding):
        return len(sharding.device_set)
    raise TypeError(f"sharding must be a jax.sharding.Mesh or Sharding, got {type(sharding)}")


def _leaf_sharding(sharding: Mesh | Sharding, ndim: int) -> Sharding:
    """Where one leaf goes: a Mesh splits axis 0 over its first axis (scalars are replicated);
    a ``Sharding`` is used as given for every batched leaf."""
    if isinstance(sharding, Mesh):
        spec = P(sharding.axis_names[0]) if ndim > 0 else P()
        return NamedSharding(sharding, spec)
    return sharding


def _leading_size(tree) -> int:
    sizes = {np.shape(x)[0] for x in jax.tree_util.tree_leaves(tree) if np.ndim(x) > 0}
    if len(sizes) != 1:
        raise ValueError(f"all batched arguments need the same leading length, got {sorted(sizes)}")
    return sizes.pop()


def pad_batch(tree, multiple: int):
    """Pad the leading axis of every leaf to a multiple of ``multiple`` by repeating the last
    sample; return ``(padded tree, original length)``."""
    n = _leading_size(tree)
    n_pad = (-n) % multiple
    if n_pad == 0:
        return tree, n
    padded = jax.tree_util.tree_map(
        lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], n_pad, axis=0)], axis=0), tree
    )
    return padded, n


def shard_batch(tree, mesh: Mesh | Sharding | None = None, what: str = "batch length"):
    """Place every leaf of ``tree`` on the devices, split along its leading (batch) axis.

    Leaves with a leading axis must share its length, which must be a multiple of the number
    of devices (``pad_batch`` pads); 0-d leaves are replicated.

    Args:
        tree: pytree of arrays.
        mesh: 1-D device mesh (default: all devices), or a ``jax.sharding.Sharding`` used for
            every batched leaf.
        what: name of the batch length in the error message.
    Raises:
        ValueError: leading lengths differ, or are not a multiple of the device count.
    """
    mesh = device_mesh() if mesh is None else mesh
    n_dev = n_shards(mesh)
    n = _leading_size(tree)
    if n % n_dev:
        raise ValueError(f"{what} {n} is not a multiple of the {n_dev} devices")
    return jax.tree_util.tree_map(
        lambda x: jax.device_put(x, _leaf_sharding(mesh, np.ndim(x))), tree
    )


def map_chunks(
    fn: Callable, batch, chunk_size: int | None = None, sharding: Mesh | Sharding | None = None
):
    """Apply a batched function to ``batch`` chunk by chunk: the one chunk/pad/shard helper.

    The leading axis (length n) of ``batch`` is cut into chunks of C rows, C = ``chunk_size``
    (None: n) rounded up to a multiple of the device count; the last chunk is padded by
    repeating the last sample, so every chunk has the same shape and a jitted ``fn`` compiles
    once (a C larger than n pads a small batch to one chunk of C). With ``sharding`` each
    chunk is split over the devices before the call. Chunks are dispatched one after the
    other from Python (asynchronously); the outputs are concatenated and trimmed to n.

    Args:
        fn: ``fn(chunk) -> pytree`` whose leaves have the chunk's leading length.
        batch: pytree of arrays with a common leading length n >= 1.
        chunk_size: rows per chunk (>= 1), or None for one chunk.
        sharding: None (default placement), a 1-D ``Mesh``, or a ``Sharding``.
    Returns:
        ``fn``'s output pytree with leading length n.
    """
    if chunk_size is not None and int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    n = _leading_size(batch)
    if n == 0:
        return fn(batch)
    n_dev = 1 if sharding is None else n_shards(sharding)
    size = n if chunk_size is None else int(chunk_size)
    size = -(-size // n_dev) * n_dev
    padded, _ = pad_batch(batch, size)
    outs = []
    for start in range(0, _leading_size(padded), size):
        chunk = jax.tree_util.tree_map(lambda a, s=start: a[s : s + size], padded)
        if sharding is not None:
            chunk = shard_batch(chunk, sharding)
        outs.append(fn(chunk))
    if len(outs) == 1:
        return jax.tree_util.tree_map(lambda a: a[:n], outs[0])
    return jax.tree_util.tree_map(lambda *a: jnp.concatenate(a)[:n], *outs)


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
    batched = jax.jit(jax.vmap(fn, in_axes=in_axes))

    def wrapped(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        if len(axes) != len(args):
            raise ValueError(f"in_axes has {len(axes)} entries for {len(args)} arguments")
        if any(a not in (0, None) for a in axes):
            raise ValueError("sharded_vmap supports in_axes of 0 or None only")
        b_args = [a for a, ax in zip(args, axes, strict=True) if ax == 0]

        def call(chunk):
            it = iter(chunk)
            return batched(*[next(it) if ax == 0 else a for a, ax in zip(args, axes, strict=True)])

        return map_chunks(call, b_args, None, mesh)

    return wrapped
