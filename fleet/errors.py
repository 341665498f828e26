"""Domain exceptions: each carries a message a user can act on; the CLI prints it as one line."""


class FleetError(Exception):
    """Base of every error fleet reports to a user (exit code 1 unless a subclass says otherwise)."""

    exit_code = 1


class DecodeError(FleetError):
    """Trace data (a page, a format file, a trace.dat header) could not be decoded."""

    exit_code = 2


class UsageError(FleetError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = 2


class InventoryError(FleetError):
    """An inventory file or host pattern is malformed or matches nothing."""

    exit_code = 2


class HostError(FleetError):
    """Something failed on one host; the message names the host and the cause."""

    def __init__(self, host: str, message: str) -> None:
        super().__init__(f"{host}: {message}")
        self.host = host
        self.cause = message
