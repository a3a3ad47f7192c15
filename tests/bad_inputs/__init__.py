"""The bad-input corpus: malformed CLI invocations, API requests and config files, each
refused in one line with nothing stored."""
