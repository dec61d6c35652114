"""Fitting workflows on measured data files, as modules and as ``netmag fit`` commands.

- ``relaxometry``    T1 / T2 / B1 maps from NIfTI images (IR, VFA, multi-echo, EPG CPMG)
- ``magnetism``      g and moment from M(H, T), Curie-Weiss chi(T), exchange from theta
- ``crystal_field``  Stevens parameters of Er3+ in CsErSe2 from measured M(H, T)

Each module has readers, fit pipelines, ``build_parser()`` and ``main(argv)``;
``netmag fit NAME ARGS`` calls ``WORKFLOWS[NAME].main(ARGS)``. ``DATA`` is the folder of the
measured data shipped with the package (``DATA / "CsErSe2"``, with its PROVENANCE.md).
"""

from . import crystal_field as crystal_field
from . import magnetism as magnetism
from . import relaxometry as relaxometry
from ._commands import WORKFLOWS as WORKFLOWS
from ._commands import describe as describe
from ._commands import run_workflow as run_workflow
from ._commands import wants_float64 as wants_float64
from ._common import DATA as DATA
