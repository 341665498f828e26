"""Transport failures: each names the host and says what to do."""

from __future__ import annotations

from fleet.errors import HostError


class LinkLost(HostError):
    """The connection to the host (or the agent process) went away mid-session."""


class AgentFailed(HostError):
    """The agent answered a request with an error frame; `code` is the protocol's error code."""

    def __init__(self, host: str, request: str, code: str, message: str) -> None:
        super().__init__(host, f"{request} refused ({code}): {message}")
        self.request = request
        self.code = code
        self.agent_message = message
