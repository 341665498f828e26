"""Cross-host triggers: one host's kernel trigger stops every host; the flight recorder; what the run keeps."""
