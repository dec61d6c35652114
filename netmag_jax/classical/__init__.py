"""netmag_jax.classical (under construction in this release)."""
