"""Screens of the TUI: help, prompts, host detail."""
