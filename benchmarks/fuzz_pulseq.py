"""Long fuzz run of the Pulseq reader: seeded mutations of real files, zero foreign exceptions.

Seeds: the hand-written test files (tests/mri/data) and, when pypulseq is installed, the
pypulseq-written corpus of the tests (GRE, spin echo, TSE, EPI, spiral, UTE, ...). Every case
is parsed and converted to the engine's step grid (no simulation); it must read or raise a
ValueError naming the file. Prints the counts and the first foreign exceptions (if any) and
exits non-zero when there are some.

    python benchmarks/fuzz_pulseq.py --cases 100000 --seed 0
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

from netmag_jax.mri._pulseq_fuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
SMALL = ("se_block_v15", "se_block_v141", "epi_labels_v15", "ute_v141", "spiral_os_v15")


def seed_files(folder):
    """Contents of the seed files: test data plus small pypulseq corpus files."""
    seeds = [p.read_bytes() for p in sorted((ROOT / "tests" / "mri" / "data").glob("*.seq"))]
    spec = importlib.util.spec_from_file_location(
        "_pypulseq_corpus", ROOT / "tests" / "mri" / "_pypulseq_corpus.py"
    )
    try:
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except ImportError as e:  # pypulseq missing: test data only
        print(f"pypulseq corpus skipped ({e})")
        return seeds
    files = module.write_corpus(folder)
    return seeds + [files[n].read_bytes() for n in SMALL]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Long fuzz run of the Pulseq reader")
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = seed_files(tmp)
    t0 = time.perf_counter()
    ok, rejected, foreign = fuzz(seeds, args.cases, seed=args.seed)
    wall = time.perf_counter() - t0
    print(
        f"{args.cases} cases from {len(seeds)} seed files (seed {args.seed}) in {wall:.1f} s: "
        f"{ok} read, {rejected} rejected with file:line, {len(foreign)} foreign exceptions "
        "(goal: 0)"
    )
    kinds = Counter()
    for _, e in foreign:
        tb = traceback.extract_tb(e.__traceback__)
        where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
        kinds[(type(e).__name__, where, str(e)[:120])] += 1
    for (name, where, msg), n in kinds.most_common(20):
        print(f"  {n:6d} {name} at {where}: {msg}")
    return 1 if foreign else 0


if __name__ == "__main__":
    sys.exit(main())
