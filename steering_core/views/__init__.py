"""What a session looks like to its readers (the dashboard, the HTML report, the CLI): the
session view, judgments in words, curve values and traces, role badge colours."""
