"""A lab of QEMU virtual machines running Debian kernels that have the latency tracers (function, wakeup, ...)."""
