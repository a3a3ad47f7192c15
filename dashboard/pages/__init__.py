"""Page builders: what a URL shows, read from the core and laid out by `layout`; no callbacks
(those live in `callbacks`, each module with its `register(app, state)`)."""
