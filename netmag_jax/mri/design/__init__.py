"""RF-pulse design by optimal control: optimise a waveform with optax through a rotation.

A pulse of n piecewise-constant samples (complex B1 [T], optionally a slice gradient [T/m])
is simulated for a grid of spins (positions x [m] x off-resonances df [Hz] x B1 scales s)
with the Cayley-Klein kernel ``netmag_jax.mri.cayley_klein`` (a pure rotation: T1, T2
relaxation during a millisecond pulse is neglected; convention dM/dt = gamma M x B_eff, an
RF pulse along +x tips +z towards +y). The pieces, one per module:

* targets (``Target``, ``slice_target``, ``uniform_target``): what the pulse should do;
* the profile (``simulate_pulse``, ``profile_loss``, ``target_error``, ``max_flip_angle``);
* the waveform parametrisation (``Waveform``): basis and the peak-B1 squashing map;
* the loss (``DesignLoss``): profile error plus energy, SAR and slew terms;
* classical and initial pulses (``sinc_pulse``, ``slr_pulse``, ``initial_pulse``);
* the optimiser (``optimize_pulse`` with an optax optimiser object, ``Stopping``,
  ``DesignResult``);
* export and figures (``pulseq_shape``, ``compress_shape``, ``pulse_sequence`` for
  ``mri.write_pulseq``, ``plot_design``).

Example::

    target = design.uniform_target("inversion", b1_scale=jnp.linspace(0.8, 1.2, 5))
    res = design.optimize_pulse(target, duration=4e-3, n_samples=128, b1_max=15e-6,
                                optimizer=optax.adam(1e-2), stop=design.Stopping(max_iter=200))
"""

from ._export import (
    compress_shape as compress_shape,
    pulse_sequence as pulse_sequence,
    pulseq_shape as pulseq_shape,
)
from ._initial import (
    initial_pulse as initial_pulse,
    sinc_pulse as sinc_pulse,
    slr_pulse as slr_pulse,
)
from ._loss import DesignLoss as DesignLoss
from ._optimise import (
    DesignResult as DesignResult,
    Stopping as Stopping,
    optimize_pulse as optimize_pulse,
)
from ._plot import plot_design as plot_design
from ._profile import (
    max_flip_angle as max_flip_angle,
    profile_loss as profile_loss,
    simulate_pulse as simulate_pulse,
    target_error as target_error,
)
from ._target import (
    Target as Target,
    slice_target as slice_target,
    uniform_target as uniform_target,
)
from ._waveform import Waveform as Waveform
