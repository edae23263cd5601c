"""What-if simulation: a model calibrated from the log, validated against it, then changed by scenarios."""

__all__ = []
