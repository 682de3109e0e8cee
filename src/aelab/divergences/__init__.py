"""Divergences between distributions known only through samples (or densities, where defined)."""
