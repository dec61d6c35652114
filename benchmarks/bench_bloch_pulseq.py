"""pypulseq files on a 64 x 64 Shepp-Logan phantom: netmag_jax vs MRzero (isochromats, PDG).

The files (GRE, TSE, EPI, bSSFP, radial, spiral) are written by pypulseq with the test
corpus ``tests/mri/_pypulseq_corpus.py`` (built like pypulseq's example scripts) at matrix
64. For each file and in one process:

* netmag_jax from the file to the signal, ``read_pulseq(path).simulate(spins)`` (fast
  engine, default; the file is parsed on the first call and then taken from the content
  cache, while MRzero's ``Sequence.import_file`` is not timed at all), and its NRMSE against
  ``method="reference"`` (goal <= 1e-2); also, for information, the whole ``simulate_seq``
  pipeline, which adds the k-space trajectory and the image reconstruction;
* MRzero's isochromat simulation (``mrzerocore``, ``isochromat_sim``) with the same number
  of isochromats per pixel, and MRzero's PDG (``compute_graph`` + ``execute_graph``, its
  defaults): time ratios to our file-to-signal time, goals >= 30x isochromats and > 1x PDG.

Every time is the best of ``--repeat`` runs (ours after one compiling run). MRzero plays RF
pulses as instantaneous rotations, so its signal is not expected to equal ours sample by
sample; only its run time is compared. Peers are optional:
``pip install torch==2.13.0 mrzerocore``; missing ones are reported as skipped.
``python benchmarks/bench_bloch_pulseq.py [--quick] [--only gre,epi] [--repeat 3] [--corpus PATH]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

KINDS = ("gre", "tse", "epi", "bssfp", "radial", "spiral")


def _corpus(path, n):
    """The corpus module with its matrix set to n (its make_* read the module global N)."""
    spec = importlib.util.spec_from_file_location("_pypulseq_corpus", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the pypulseq corpus from {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.N = n
    return mod


def _timed(f, repeat=1):
    """(result, best time [s] of ``repeat`` runs)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return out, best


def _ours(path, phantom, method, repeat, pipeline=False):
    """(signal, best time): file -> signal, or the whole ``simulate_seq`` pipeline."""
    import jax

    from netmag_jax import mri

    def run():
        if pipeline:
            res = mri.simulate_seq(path, phantom, method=method)
        else:
            res = mri.read_pulseq(path).simulate(phantom.spins, method=method)
        return np.asarray(jax.block_until_ready(res.signal))

    run()  # compile
    return _timed(run, repeat)


def _mrzero(path, phantom, n_sub, repeat):
    """(isochromat seconds, PDG seconds) or a reason string."""
    try:
        import MRzeroCore as mr0
        import torch
    except ImportError as e:
        return f"skipped: {e} (pip install torch==2.13.0 mrzerocore)"
    n = phantom.pd.shape[0]

    def t(a):
        return torch.as_tensor(np.asarray(a, np.float32)[:, :, None])

    zeros = torch.zeros(n, n, 1)
    fov = phantom.fov
    obj = mr0.VoxelGridPhantom(
        t(phantom.pd),
        t(phantom.T1),
        t(phantom.T2),
        zeros + 1e9,  # no T2' (ours: point isochromats without intra-voxel spread)
        zeros,
        zeros,
        zeros[None] + 1,
        zeros[None] + 1,
        torch.tensor(
            [[fov / n, 0, 0, -fov / 2], [0, fov / n, 0, -fov / 2], [0, 0, 1, 0], [0, 0, 0, 1]]
        ),
    )
    data = obj.build(voxel_shape="point")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seq = mr0.Sequence.import_file(str(path))
        _, t_iso = _timed(
            lambda: mr0.isochromat_sim(seq, data, n_sub, print_progress=False), repeat
        )

        def pdg():
            graph = mr0.compute_graph(seq, data)
            return mr0.execute_graph(graph, seq, data, print_progress=False)

        _, t_pdg = _timed(pdg, repeat)
    return t_iso, t_pdg


def _nrmse(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main(argv=None) -> dict:
    from netmag_jax import mri

    root = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="matrix 16 instead of 64")
    p.add_argument("--only", default=",".join(KINDS))
    p.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    p.add_argument("--corpus", default=str(root / "tests" / "mri" / "_pypulseq_corpus.py"))
    a = p.parse_args(argv)
    n = 16 if a.quick else 64
    results: dict = {}

    def put(key, value):
        results[key] = value
        print(f"{key:60s} {value:.4g}" if isinstance(value, float) else f"{key:60s} {value}")
        sys.stdout.flush()

    try:
        corpus = _corpus(a.corpus, n)
    except (ImportError, FileNotFoundError) as e:
        print(f"skipped: {e}")
        return results
    phantom = mri.shepp_logan(n, fov=corpus.FOV)
    n_sub = int(phantom.spins.n // max(1, int(np.count_nonzero(phantom.pd))))
    put("spins", phantom.spins.n)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in a.only.split(","):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                path = Path(tmp) / f"{kind}.seq"
                getattr(corpus, f"make_{kind}")().write(str(path))
            s_fast, t_fast = _ours(path, phantom, "fast", a.repeat)
            s_ref, t_ref = _ours(path, phantom, "reference", 1)
            _, t_pipe = _ours(path, phantom, "fast", a.repeat, pipeline=True)
            put(f"{kind}_fast_s (file -> signal)", t_fast)
            put(f"{kind}_simulate_seq_s (with k-space and image)", t_pipe)
            put(f"{kind}_nrmse_fast_vs_reference (goal <= 1e-2)", _nrmse(s_fast, s_ref))
            put(f"{kind}_speedup_vs_reference_path", t_ref / t_fast)
            peer = _mrzero(path, phantom, n_sub, a.repeat)
            if isinstance(peer, str):
                put(f"{kind}_mrzero", peer)
                continue
            put(f"{kind}_speedup_vs_mrzero_isochromats (goal >= 30)", peer[0] / t_fast)
            put(f"{kind}_speedup_vs_mrzero_pdg (goal > 1)", peer[1] / t_fast)
    return results


if __name__ == "__main__":
    main()
