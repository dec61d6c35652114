"""MRI: a differentiable Bloch engine with pulses, sequences, coils, EPG, Pulseq and phantoms.

Rotating frame at the Larmor frequency ``omega0 = gamma B0`` (see ``Spins``); SI units
(T, T/m, s, m, Hz, A/m). Everything is differentiable with respect to RF and gradient
waveforms and tissue parameters.
"""

from .._numerics import rotate as rotate
from ._bloch import BlochResult as BlochResult
from ._bloch import simulate as simulate
from ._epg import epg_cpmg as epg_cpmg
from ._epg import epg_gre as epg_gre
from ._phantoms import TISSUES as TISSUES
from ._phantoms import Phantom as Phantom
from ._phantoms import PhantomOptions as PhantomOptions
from ._mrd import write_mrd as write_mrd
from ._phantoms import SpoilingWarning as SpoilingWarning
from ._phantoms import cylinder as cylinder
from ._phantoms import shepp_logan as shepp_logan
from ._phantoms import spoiling_isochromats as spoiling_isochromats
from ._pipeline import SeqSimulation as SeqSimulation
from ._pipeline import simulate_seq as simulate_seq
from ._pulseq import PulseqFile as PulseqFile
from ._pulseq import decompress_shape as decompress_shape
from ._pulseq import parse_pulseq as parse_pulseq
from ._pulseq_convert import pulseq_to_sequence as pulseq_to_sequence
from ._pulseq_convert import read_pulseq as read_pulseq
from ._pulseq_write import PulseqExport as PulseqExport
from ._pulseq_write import write_pulseq as write_pulseq
from ._pulses import flip_angle as flip_angle
from ._pulses import from_waveform as from_waveform
from ._pulses import gaussian as gaussian
from ._pulses import hard as hard
from ._pulses import hyperbolic_secant as hyperbolic_secant
from ._pulses import pulse_dt as pulse_dt
from ._pulses import sinc as sinc
from ._pulses import slice_select_gradient as slice_select_gradient
from ._recon import kspace_trajectory as kspace_trajectory
from ._plot import plot_image as plot_image
from ._plot import plot_kspace as plot_kspace
from ._plot import plot_sequence as plot_sequence
from ._plot import plot_signal as plot_signal
from ._plot import plot_simulation as plot_simulation
from ._recon import Reconstruction as Reconstruction
from ._recon import reconstruct as reconstruct
from ._recon import reconstruct_cartesian as reconstruct_cartesian
from ._sequences import Sequence as Sequence
from ._sequences import SequenceBuilder as SequenceBuilder
from ._sequences import bssfp as bssfp
from ._sequences import cartesian_gre as cartesian_gre
from ._sequences import cpmg as cpmg
from ._sequences import fid as fid
from ._sequences import gre as gre
from ._sequences import inversion_recovery as inversion_recovery
from ._sequences import rf_spoiling_phases as rf_spoiling_phases
from ._sequences import spin_echo as spin_echo
from ._signal import add_noise as add_noise
from ._signal import coil_sensitivities as coil_sensitivities
from ._signal import induced_emf as induced_emf
from ._signal import loop_coil_b1 as loop_coil_b1
from ._signal import thermal_noise_std as thermal_noise_std
from ._spinor import cayley_klein as cayley_klein
from ._steady_state import bssfp_signal as bssfp_signal
from ._steady_state import bssfp_signal_on_resonance as bssfp_signal_on_resonance
from ._steady_state import ernst_angle as ernst_angle
from ._steady_state import ernst_signal as ernst_signal
from ._steady_state import inversion_recovery_signal as inversion_recovery_signal
from ._steady_state import spin_echo_signal as spin_echo_signal
from ._spins import WATER_PROTON_DENSITY as WATER_PROTON_DENSITY
from ._spins import Spins as Spins
from ._spins import equilibrium_magnetization as equilibrium_magnetization
from ._spins import larmor_frequency as larmor_frequency
from ._spins import shard_spins as shard_spins

from . import design as design  # RF-pulse optimisation (optax), netmag_jax.mri.design
