"""Clock alignment: map each host's trace-clock timestamps onto the run's one time line, with error bounds."""
