"""Report: the evidence report, its renderings, packets, history, merge and verification."""
