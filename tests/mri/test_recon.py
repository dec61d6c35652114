"""k-space trajectory and Cartesian reconstruction (mri._recon)."""

import math

import jax.numpy as jnp
import numpy as np

from netmag_jax import mri
from netmag_jax.constants import GAMMA_1H
from netmag_jax.mri._recon import cartesian_image

GAMMA_BAR = GAMMA_1H / (2 * math.pi)


def test_reconstruct_cartesian_single_kspace_sample_is_a_plane_wave():
    """One sample at (kx, ky) = (1, -1) grid steps: image[y, x] = e^{2 pi i (kx x/nx + ky y/ny)}/N
    with x = j - nx/2, y = i - ny/2 (centred FFT); batch axes are kept."""
    nx, ny = 6, 4
    k = np.zeros((2, ny, nx), complex)
    k[0, ny // 2 - 1, nx // 2 + 1] = 1.0
    k[1, ny // 2, nx // 2] = 2.0
    img = np.asarray(mri.reconstruct_cartesian(jnp.asarray(k.reshape(2, -1)), (nx, ny)))
    assert img.shape == (2, ny, nx)
    x = np.arange(nx) - nx / 2
    y = (np.arange(ny) - ny / 2)[:, None]
    wave = np.exp(2j * np.pi * (x / nx - y / ny)) / (nx * ny)
    np.testing.assert_allclose(img[0], wave, atol=1e-15)
    np.testing.assert_allclose(img[1], np.full((ny, nx), 2.0 / (nx * ny)), atol=1e-15)


def test_kspace_trajectory_is_gamma_bar_gradient_area_restarted_at_pulse_centre():
    """k = gamma_bar int G dt since the centre of the last pulse (half a slice-select moment)."""
    G, dwell = 1e-3, 1e-5
    b = mri.SequenceBuilder()
    b.pulse(jnp.full(1, 1e-6), 1e-4)
    b.delay(1e-3, gradient=(G, 0.0, 0.0))
    b.readout(4, dwell, gradient=(0.0, G, 0.0))
    b.pulse(jnp.full(2, 1e-6), 2e-4, gradient=(0.0, 0.0, -G))
    b.readout(2, dwell, gradient=(0.0, 0.0, G))
    seq = b.build()
    k = mri.kspace_trajectory(seq)
    m = np.arange(1, 5)
    first = np.stack([np.full(4, G * 1e-3), G * m * dwell, np.zeros(4)], -1)
    second = np.stack([np.zeros(2), np.zeros(2), G * (np.arange(1, 3) * dwell - 1e-4)], -1)
    np.testing.assert_allclose(k, GAMMA_BAR * np.concatenate([first, second]), atol=1e-9)
    k_cum = mri.kspace_trajectory(seq, reset_on_rf=False)
    np.testing.assert_allclose(k_cum[4:, :2], GAMMA_BAR * first[[-1, -1], :2], atol=1e-9)


def test_cartesian_image_any_sample_order_and_none_off_grid():
    """Samples of a full grid in shuffled order give the same image; off-grid samples: None."""
    fov = (0.2, 0.1)
    ix, iy = np.meshgrid(np.arange(4) - 2, np.arange(2) - 1)
    kspace = np.stack([ix.ravel() / fov[0], iy.ravel() / fov[1], np.zeros(8)], -1)
    signal = np.arange(8.0) + 1j
    ordered = np.asarray(cartesian_image(signal, kspace, fov))
    np.testing.assert_allclose(ordered, mri.reconstruct_cartesian(jnp.asarray(signal), (4, 2)))
    perm = np.array([5, 2, 7, 0, 3, 6, 1, 4])
    np.testing.assert_allclose(cartesian_image(signal[perm], kspace[perm], fov), ordered)
    kspace[3, 0] += 0.3 / fov[0]
    assert cartesian_image(signal, kspace, fov) is None
