"""Customer intake: from what a contractor has (spreadsheets, report exports) to a tenant folder the gate judges."""
