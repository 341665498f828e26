"""A lab of SSH hosts on this machine (network namespaces with their own sshd) and link impairment between them."""

from fleet.lab.errors import LabError
from fleet.lab.lab import DEFAULT_DIR, Lab
from fleet.lab.state import LabHost, LinkImpairment

__all__ = ["DEFAULT_DIR", "Lab", "LabError", "LabHost", "LinkImpairment"]
