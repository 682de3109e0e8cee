"""Samplers that need only a score function: Langevin and annealed Langevin dynamics."""

from aelab.sampling.langevin import annealed_langevin, geometric_sigmas, langevin

__all__ = ["annealed_langevin", "geometric_sigmas", "langevin"]
