"""Reaching an agent: a local subprocess or an SSH channel, both seen through one frame Channel."""
