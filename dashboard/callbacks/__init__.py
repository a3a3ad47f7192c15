"""The dashboard's callbacks, one module per concern, each with `register(app, state)`."""
