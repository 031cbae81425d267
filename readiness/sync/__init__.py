"""Sync: the queue state machine, the lead handoff and the network guard."""
