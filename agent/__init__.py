"""The fleet agent: runs on each traced host with python3 >= 3.8, msgpack and zstandard, nothing else.

It imports nothing from `fleet`; the coordinator talks to it only through `agent.protocol`.
"""

__version__ = "0.1.0"
