r"""The scan over bundles of the fast Bloch engine, with its own reverse mode (custom VJP).

Forward: bundles are scanned in ``n_chunks`` chunks of ``chunk`` bundles (~sqrt(m) each);
the state at the start of every chunk is kept (memory O(sqrt(m) N)).

Reverse, chunk by chunk from the last: the chunk's states are recomputed from its stored
start state (one forward pass over the chunk, keeping the state before every bundle,
memory O(chunk N)), then the adjoint runs backwards through the chunk,

.. math:: \bar s_{k-1} = \Big(\frac{\partial s_k}{\partial s_{k-1}}\Big)^{\!T}\bar s_k
          + \Big(\frac{\partial y_k}{\partial s_{k-1}}\Big)^{\!T}\bar y_k,\qquad
          \bar\theta \mathrel{+}= \Big(\frac{\partial (s_k, y_k)}{\partial\theta}\Big)^{\!T}
          (\bar s_k, \bar y_k),

with ``s_k`` the state after bundle k, ``y_k`` its emissions (coil sums) and theta the spin
parameters, coils and class maps. Each bundle's transpose is the VJP of *its own* branch,
chosen by ``lax.switch`` from the stored state: nothing is stored per bundle in the forward
pass. Why not JAX's automatic reverse mode: differentiating ``lax.switch`` inside a scan
makes every bundle store the union of all branches' residuals (zeros for the branches not
taken), so the backward pass moved many times the forward's memory (benchmarks/README.md:
17.6x the forward time at 10^4 bundles x 10^4 spins).
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp


def chunk_steps(xs, m, chunk):
    """Pad the bundle inputs with identity bundles and reshape to [n_chunks, chunk, ...]
    (padding: zeros everywhere, branch position 0, a free NEW_DT step of length 0)."""
    n_chunks = -(-m // chunk)
    pad = n_chunks * chunk - m

    def f(a):
        a = jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)])
        return a.reshape((n_chunks, chunk) + a.shape[1:])

    return jax.tree_util.tree_map(f, xs)


def _report_progress(k, n):
    """Print ``Bloch simulation: k/n`` on stderr (a callback from inside the scan)."""
    k = int(k) + 1
    sys.stderr.write(f"\rBloch simulation: {k}/{n} chunks of steps")
    if k == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _add(a, b):
    return jax.tree_util.tree_map(jnp.add, a, b)


def scan_bundles(make_branches, spin, cls, state, coils, maps, xs, ints, *, m, chunk, progress):
    """Run the bundles; returns (final state, emissions [m, ...]) with the custom VJP above.

    (Long because the forward, the custom VJP's forward and its backward are closures over
    the same static plan and branch builder; split apart they would pass it all around.)

    Args:
        make_branches: ``(spin + (cls,), coils, maps, unroll=True) -> [branch]``, each
            branch ``(state, inputs) -> (state, emissions)`` (inputs: Re B1, Im B1, moment,
            dt, block); ``unroll=False`` gives the same functions with loops instead of
            unrolled steps, used for the per-bundle VJPs (fast to compile).
        spin: the float per-spin parameters (differentiable); cls: [N] int class per spin.
        state: the engine state; coils: [C, N] complex or None; maps: class maps.
        xs: the float bundle inputs (Re B1, Im B1, moment, dt), each [m, BUNDLE, ...];
        ints: (block [m, BUNDLE], branch index [m]) int arrays.
        m: number of bundles; chunk: bundles per checkpointed chunk; progress: report.
    """
    chunk = min(chunk or m, m)
    n_chunks = -(-m // chunk)
    xs_c, ints_c = chunk_steps((xs, ints), m, chunk)

    def step(sp, cl, co, mp, st, x, blk, idx):
        return jax.lax.switch(idx, make_branches(sp + (cl,), co, mp), st, (*x, blk))

    def forward(sp, cl, st, co, mp, x_c, i_c):
        def chunk_body(st, xc):
            x, (blk, idx), k = xc
            if progress:
                jax.debug.callback(_report_progress, k, n_chunks)

            def body(s, xi):
                return step(sp, cl, co, mp, s, *xi)

            st_end, ys = jax.lax.scan(body, st, (x, blk, idx))
            return st_end, (st, ys)

        st, (starts, ys) = jax.lax.scan(chunk_body, st, (x_c, i_c, jnp.arange(n_chunks)))
        return st, ys, starts

    @jax.custom_vjp
    def run(sp, cl, st, co, mp, x_c, i_c):
        st, ys, _ = forward(sp, cl, st, co, mp, x_c, i_c)
        return st, ys

    def run_fwd(sp, cl, st, co, mp, x_c, i_c):
        st_end, ys, starts = forward(sp, cl, st, co, mp, x_c, i_c)
        return (st_end, ys), (sp, cl, co, mp, x_c, i_c, starts)

    def run_bwd(res, cts):
        sp, cl, co, mp, x_c, i_c, starts = res
        ct_end, ct_ys = cts

        def vjp_branch(i):
            """The transpose of branch i at its input state: (carry, bundle) -> (carry, d_x)."""

            def g(c, s_i, x_i, blk_i, cty_i):
                def f(s, xf, spf, cof, mpf):
                    branches = make_branches(spf + (cl,), cof, mpf, unroll=False)
                    return branches[i](s, (*xf, blk_i))

                _, pull = jax.vjp(f, s_i, x_i, sp, co, mp)
                d_s, d_x, *d_par = pull((c[0], cty_i))
                return (d_s, _add(c[1], tuple(d_par))), d_x

            return g

        n_branches = len(make_branches(sp + (cl,), co, mp))
        vjps = [vjp_branch(i) for i in range(n_branches)]

        def back_body(c, xi):
            """One bundle backwards: the VJP of its own branch (switch outside the VJP, so
            no branch materialises another's residuals)."""
            s_i, x_i, blk_i, idx_i, cty_i = xi
            return jax.lax.switch(idx_i, vjps, c, s_i, x_i, blk_i, cty_i)

        def chunk_back(carry, inp):
            x, (blk, idx), st0, ct_yc = inp

            def rec(s, xi):
                return step(sp, cl, co, mp, s, *xi)[0], s

            _, s_in = jax.lax.scan(rec, st0, (x, blk, idx))
            return jax.lax.scan(back_body, carry, (s_in, x, blk, idx, ct_yc), reverse=True)

        zeros = jax.tree_util.tree_map(jnp.zeros_like, (sp, co, mp))
        (ct_st, (d_sp, d_co, d_mp)), d_xc = jax.lax.scan(
            chunk_back, (ct_end, zeros), (x_c, i_c, starts, ct_ys), reverse=True
        )
        return d_sp, None, ct_st, d_co, d_mp, d_xc, None

    run.defvjp(run_fwd, run_bwd)
    st, ys = run(spin, cls, state, coils, maps, xs_c, ints_c)
    ys = jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:])[:m], ys)
    return st, ys
