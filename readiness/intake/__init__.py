"""Customer intake: what a contractor actually has (exports, form submissions) into a tenant folder."""
