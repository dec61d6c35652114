"""netmag_jax.lattice (under construction in this release)."""
