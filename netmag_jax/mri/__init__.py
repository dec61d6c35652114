"""netmag_jax.mri (under construction in this release)."""
