@sandbox @req-SANDBOX-PROTOCOL
Feature: Sandbox validation protocol
  These are the tests the product must pass against ServiceTitan's integration
  environment before any API-backed capability is offered. Until sandbox access
  exists they are pending: they never count as passed. Against the local
  simulator they run as dry runs, which are never evidence either.
  Every test also proves that no credential or token leaks.

  Rule: The app connects only as ServiceTitan's OAuth2 client credentials allow

    @sbx-TOKEN-01
    Scenario: The product obtains an access token by client credentials
      Given access to ServiceTitan's integration environment for protocol test "TOKEN-01"
      When the product runs the protocol test
      Then a token is issued and the product plans its refresh from expires_in
      And the product fetches a new token before the old one expires
      And a call with an expired token is refused
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-APPKEY-01
    Scenario: Calls without the app key, without a token or to another tenant are refused
      Given access to ServiceTitan's integration environment for protocol test "APPKEY-01"
      When the product runs the protocol test
      Then a call without the app key or with another app's key is refused
      And a call without an access token is refused
      And a call to a tenant the app is not connected to is refused
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-SCOPE-01
    Scenario: Each API family is reachable only with the scope the tenant admin granted
      Given access to ServiceTitan's integration environment for protocol test "SCOPE-01"
      When the product runs the protocol test
      Then each family answers only a connection granted its scope, and refuses others with 403
      And every refused family is marked ineligible and routed to the disconnect runbook
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-REVOKE-01
    Scenario: The tenant revokes the app's access in the middle of a run
      Given access to ServiceTitan's integration environment for protocol test "REVOKE-01"
      When the product runs the protocol test
      Then the refused token refresh is reported as a revoked authorization
      And undelivered items are blocked with the disconnect runbook
      And no local lead or queue item was deleted
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-SECRET-01
    Scenario: Credentials and tokens never show in logs, errors or transcripts
      Given access to ServiceTitan's integration environment for protocol test "SECRET-01"
      When the product runs the protocol test
      Then error messages and reprs show no credential or token
      And nothing the client logged, raised or recorded contains a credential or token

  Rule: Imports are read-only and complete

    @sbx-IMPORT-01 @req-MAP-TAXONOMY
    Scenario: The taxonomy is imported read-only and compared with the Titan Map
      Given access to ServiceTitan's integration environment for protocol test "IMPORT-01"
      When the product runs the protocol test
      Then only GET requests were sent during the import
      And inactive taxonomy records are imported too
      And drift against the Titan Map is the same as from the customer's exports
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-PAGE-01
    Scenario: Lists are paged by hasMore and export feeds followed by continueFrom
      Given access to ServiceTitan's integration environment for protocol test "PAGE-01"
      When the product runs the protocol test
      Then every list page was followed until hasMore was false, nothing lost or repeated
      And the export feed was followed by continueFrom to its end
      And a cut-off page was fetched again instead of being accepted
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-MINIMIZE-01
    Scenario: Only the fields on the retention list are kept from ServiceTitan's answers
      Given access to ServiceTitan's integration environment for protocol test "MINIMIZE-01"
      When the product runs the protocol test
      Then only the fields in the retention list are kept from each response
      And no personal field from ServiceTitan's answers is kept
      And nothing the client logged, raised or recorded contains a credential or token

  Rule: A website lead becomes exactly one booking, with visible retry status

    @sbx-BOOK-01 @req-LEAD-HANDOFF
    Scenario: A booking handed off with its externalId is not duplicated when an answer is lost
      Given access to ServiceTitan's integration environment for protocol test "BOOK-01"
      When the product runs the protocol test
      Then the booking carries the externalId and the Titan Map ids
      And the client looked the booking up by externalId before posting it again
      And exactly one booking exists for the externalId after the lost answer
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-RETRY-01
    Scenario: Retries wait as long as ServiceTitan asks, then the item is blocked after the limit
      Given access to ServiceTitan's integration environment for protocol test "RETRY-01"
      When the product runs the protocol test
      Then no retry was sent before the wait that Retry-After asked for
      And the queue showed the item retrying and then delivered
      And an item still failing after the retry limit is blocked with the failed-sync runbook
      And nothing the client logged, raised or recorded contains a credential or token

  Rule: Attribution is proven from ServiceTitan's own records where access allows

    @sbx-ATTR-01 @req-ATTR-OUTCOMES
    Scenario: Website leads are linked to booked jobs and invoice revenue
      Given access to ServiceTitan's integration environment for protocol test "ATTR-01"
      When the product runs the protocol test
      Then booked jobs and revenue are linked to leads exactly as in the customer's exports
      And every lead without a booked job is listed for the attribution-mismatch runbook
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-ATTR-02
    Scenario: Web lead and web booking attributions are posted to marketing ads
      Given access to ServiceTitan's integration environment for protocol test "ATTR-02"
      When the product runs the protocol test
      Then the web booking and web lead attributions are accepted
      And the attribution posts carry only attribution fields
      And nothing the client logged, raised or recorded contains a credential or token

  Rule: Webhooks are verified, retried by ServiceTitan and processed once

    @sbx-WEBHOOK-01 @req-WEBHOOK-INGEST
    Scenario: A signed webhook survives receiver failures and is processed exactly once
      Given access to ServiceTitan's integration environment for protocol test "WEBHOOK-01"
      When the product runs the protocol test
      Then ServiceTitan's retries arrive on its schedule until the receiver succeeds
      And the event is processed exactly once
      And a delivery with a forged signature is rejected
      And nothing the client logged, raised or recorded contains a credential or token
