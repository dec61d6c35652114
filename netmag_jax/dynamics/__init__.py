"""netmag_jax.dynamics (under construction in this release)."""
