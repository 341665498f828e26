"""The VM lab's error: a build step, a boot or a guest command failed; the message names which and why."""

from fleet.errors import FleetError


class VmError(FleetError):
    """Building, booting or reaching a lab VM failed."""
