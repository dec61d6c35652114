"""netmag_jax.fit (under construction in this release)."""
