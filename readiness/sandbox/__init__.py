"""Sandbox: the validation protocol and the strict local simulator."""
