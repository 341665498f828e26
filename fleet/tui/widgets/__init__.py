"""Widgets of the TUI: virtualised lines, time-axis lanes, fields panel, formatting helpers."""
