"""steering_core: steer a diffusion model's conditioning with a researcher's judgments."""

__version__ = "0.1.0"
