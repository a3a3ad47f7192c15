"""The StableSteering research dashboard (Dash); its app comes with the dashboard issue."""
