"""Writers of a recorded run in other tools' formats (trace.dat for trace-cmd and KernelShark)."""
