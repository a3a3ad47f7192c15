"""Pure builders of the dashboard's components: data in, components out, no callbacks."""
