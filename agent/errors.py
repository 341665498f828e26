"""The agent's own exception: a protocol error code plus a message a user can act on."""

from __future__ import annotations

import errno

from agent import protocol


class AgentError(Exception):
    """A request could not be done; `code` is one of the protocol's E_* codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def code_for_errno(err: int) -> str:
    """Map the kernel's answer to a protocol error code."""
    if err in (errno.EPERM, errno.EACCES):
        return protocol.E_PERMISSION
    if err in (errno.ENOENT, errno.ENODEV, errno.ENOTSUP):
        return protocol.E_UNSUPPORTED
    if err == errno.EINVAL:
        return protocol.E_INVALID
    if err == errno.EBUSY:
        return protocol.E_BUSY
    return protocol.E_IO
