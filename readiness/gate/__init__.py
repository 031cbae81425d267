"""Gate: one run's options, records and verdict; sharding and progress."""
