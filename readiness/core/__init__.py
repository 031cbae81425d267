"""Core: errors, findings, reading documents, policies, tenants, export pages, evidence and features."""
