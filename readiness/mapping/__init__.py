"""Mapping: Titan Map drift and attribution."""
