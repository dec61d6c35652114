"""Beyond one machine: two processes that together fit one voxel map and simulate one spin
ensemble give the single-process results.

Two local processes join through ``jax.distributed.initialize`` (coordinator on the loopback
address, CPU devices, JAX's gloo CPU collectives), each with 2 virtual CPU devices, so the
global mesh has 4 devices on 2 processes. Every process runs the same program on the same
inputs (as on a cluster); the voxels and the spins are sharded across both processes, the
Bloch signal is an all-reduce across them, and each process gathers the full results
(``multihost_utils.process_allgather``). The reference is the same ``compute`` on one
device of this process. This is what ``jax.distributed.initialize()`` does on several hosts
(see docs/distributed.rst for SLURM).
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# the computation, identical in the workers and in this process (the reference)
COMPUTE = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.experimental import multihost_utils
    from netmag_jax import fit, mri

    def compute(mesh):
        # a T2 map of 24 voxels: noise-free decays plus a deterministic perturbation
        te = jnp.linspace(0.01, 0.32, 16)
        t2 = jnp.linspace(0.02, 0.2, 24)
        Y = 1000.0 * jnp.exp(-te[None, :] / t2[:, None])
        Y = Y + 3.0 * jnp.cos(7.0 * jnp.arange(24.0))[:, None]
        res = fit.fit_voxels(fit.exponential_decay, te, Y, jnp.array([800.0, 0.05]),
                             sharding=mesh)
        params = multihost_utils.process_allgather(res.params, tiled=True)
        # a spin echo of 32 isochromats with spread off-resonance and B1
        n = 32
        spins = mri.Spins(jnp.zeros((n, 3)), jnp.full(n, 1.0), jnp.full(n, 0.08),
                          off_resonance=jnp.linspace(-50.0, 50.0, n),
                          b1=jnp.linspace(0.8, 1.2, n))
        seq = mri.spin_echo(0.04, n_samples=8, dwell=1e-3)
        run = jax.jit(lambda s: mri.simulate(seq.rf, seq.gradient, seq.dt, s, adc=seq.adc))
        r = run(mri.shard_spins(spins, mesh))
        assert r.signal.is_fully_replicated  # the sum over spins reached every process
        signal = np.asarray(r.signal.addressable_data(0))
        M = multihost_utils.process_allgather(r.M, tiled=True)
        return {"params": np.asarray(params).tolist(), "M": np.asarray(M).tolist(),
                "signal": [signal.real.tolist(), signal.imag.tolist()]}
    """
)

WORKER = (
    textwrap.dedent(
        """
        import json, sys
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        process_id, port = int(sys.argv[1]), int(sys.argv[2])
        jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2,
                                   process_id=process_id)
        from netmag_jax.parallel import device_mesh
        """
    )
    + COMPUTE
    + textwrap.dedent(
        """
        out = compute(device_mesh())  # all devices of both processes
        out.update(process=jax.process_index(), n_processes=jax.process_count(),
                   n_devices=len(jax.devices()), n_local=len(jax.local_devices()))
        print(json.dumps(out))
        """
    )
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_two_processes(tmp_path) -> list[dict]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    port = _free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(i), str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for i in range(2)
    ]
    outs = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=600)
            assert p.returncode == 0, stderr[-4000:]
            outs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return outs


@pytest.mark.slow
def test_two_processes_equal_one_process(tmp_path):
    outs = _run_two_processes(tmp_path)
    assert sorted(o["process"] for o in outs) == [0, 1]
    assert all(o["n_processes"] == 2 and o["n_devices"] == 4 and o["n_local"] == 2 for o in outs)

    ns: dict = {}
    exec(compile(COMPUTE, "compute", "exec"), ns)
    from netmag_jax.parallel import device_mesh

    ref = ns["compute"](device_mesh(jax.devices()[:1]))  # one process, one device
    for o in outs:
        # the voxel fits are independent: the same numbers up to float64 round-off of the
        # differently batched compilation
        np.testing.assert_allclose(o["params"], ref["params"], rtol=1e-9)
        # the signal is a sum over the spins, split across the processes: round-off of the
        # summation order only (|signal| ~ 0.5)
        np.testing.assert_allclose(o["signal"], ref["signal"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(o["M"], ref["M"], rtol=0, atol=1e-12)
    # the processes agree with each other exactly (one program, gathered results)
    assert outs[0]["params"] == outs[1]["params"] and outs[0]["signal"] == outs[1]["signal"]
    # negative control: the comparison can fail (a T2 changed by 1e-6 relative is caught)
    bad = np.asarray(ref["params"])
    bad[3, 1] *= 1 + 1e-6
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(outs[0]["params"], bad, rtol=1e-9)
