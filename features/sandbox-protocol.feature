@sandbox @req-SANDBOX-PROTOCOL
Feature: Sandbox validation protocol
  These are the tests the product must pass against ServiceTitan's integration
  environment before any API-backed capability is offered. Until sandbox access
  exists they are pending: they never count as passed.

  @sbx-TOKEN-01
  Scenario: The product obtains an access token by client credentials
    Given access to ServiceTitan's integration environment for protocol test "TOKEN-01"
    When the product requests an access token with its client credentials
    Then a token is issued and the product plans its refresh from expires_in
