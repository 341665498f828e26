"""Decoding of ftrace data (the libtraceevent layer): ring-buffer pages, event formats, print formats.

Knows nothing of SSH, recordings or trace.dat containers.
"""
