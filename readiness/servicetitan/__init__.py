"""ServiceTitan's API as the product knows it: the one catalog of endpoints, scopes and envelopes, the client, webhooks."""
