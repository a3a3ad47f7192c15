"""`python -m steering_core` runs the `steer` CLI."""

from steering_core.cli import main

main()
