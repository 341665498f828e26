"""fleet: run Linux ftrace on many machines at once over SSH and put their traces on one time line."""

__version__ = "0.1.0"
