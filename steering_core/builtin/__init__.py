"""The built-in text-to-image model: a procedural world, its pipeline and its training."""
