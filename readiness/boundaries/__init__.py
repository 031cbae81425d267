"""Boundaries: claims, credentials, personal data, data boundaries and the security packet."""
