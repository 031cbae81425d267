"""Access: the connection matrix, manual packages and runbooks."""
