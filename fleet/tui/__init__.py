"""The Textual TUI: `fleet view RUN` (a recorded run, merged) and the live dashboard of `fleet trace`/`monitor`."""
