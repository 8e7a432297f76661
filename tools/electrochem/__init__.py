"""(being built; see the open issue for this subsystem)."""
