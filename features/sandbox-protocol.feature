@sandbox @req-SANDBOX-PROTOCOL
Feature: Sandbox validation protocol
  These are the tests the product must pass against ServiceTitan's integration
  environment before any API-backed capability is offered. Until sandbox access
  exists they are pending: they never count as passed. Against the local
  simulator they run as dry runs, which are never evidence either.
  Every test also proves that no credential or token leaks, and every body a
  test posts is the one the product itself would send.

  Rule: The app connects only as ServiceTitan's OAuth2 client credentials allow

    @sbx-TOKEN-01
    Scenario: The product obtains an access token by client credentials
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the product obtains an access token and keeps calling past the token's lifetime
      Then a token is issued and the product plans its refresh from expires_in
      And the product fetches a new token before the old one expires
      And a call with an expired token is refused
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-APPKEY-01
    Scenario: Calls without the app key, without a token or to another tenant are refused
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When calls arrive without the app key, with another app's key, without a token or for another tenant
      Then a call without the app key or with another app's key is refused
      And a call without an access token is refused
      And a call to a tenant the app is not connected to is refused
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-SCOPE-01
    Scenario: Each API family is reachable only with the scope the tenant admin granted
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When each API family is called by connections the tenant administrator granted different scopes
      Then each family answers only a connection granted its scope, and refuses others with 403
      And every refused family is marked ineligible and routed to the disconnect runbook
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-SCOPE-02 @req-FAIL-AUTH
    Scenario: A scope added in a new app version waits for the tenant administrator, and only its family stops
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the app gains a scope in a new version that the tenant administrator has not accepted yet
      Then the family that needs the new scope is ineligible, awaiting the tenant administrator's acceptance of the new app version, and routed to the disconnect runbook
      And every other family keeps working
      And the customer's access checklist lists the acceptance still pending
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-REVOKE-01
    Scenario: The tenant revokes the app's access in the middle of a run
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the tenant administrator revokes the app while bookings are being handed off
      Then the refused token refresh is reported as a revoked authorization
      And undelivered items are blocked with the disconnect runbook
      And no local lead or queue item was deleted
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-SECRET-01
    Scenario: Credentials and tokens never show in logs, errors or transcripts
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When calls fail, are logged and raise errors
      Then error messages and reprs show no credential or token
      And nothing the client logged, raised or recorded contains a credential or token

  Rule: Imports are read-only and complete

    @sbx-IMPORT-01 @req-MAP-TAXONOMY @req-FAIL-DRIFT
    Scenario: The taxonomy is imported read-only, inactive records included, and compared with the Titan Map
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the product imports the tenant's job types, business units, zones, campaigns, services and membership types, one of them deactivated
      Then only GET requests were sent during the import
      And every list was asked for its inactive records too (active=Any)
      And inactive taxonomy records are imported too
      And drift against the Titan Map is the same as from the customer's exports
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-PAGE-01
    Scenario: Lists are paged by hasMore and export feeds followed by continueFrom
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the product reads a list page by page and follows an export feed, and one page arrives cut off
      Then every list page was followed until hasMore was false, nothing lost or repeated
      And the export feed was followed by continueFrom to its end
      And a cut-off page was fetched again instead of being accepted
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-MINIMIZE-01
    Scenario: Only the fields on the retention list are kept from ServiceTitan's answers
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the product reads bookings, jobs, invoices and payments
      Then only the fields in the retention list are kept from each response
      And no personal field from ServiceTitan's answers is kept
      And nothing the client logged, raised or recorded contains a credential or token

  Rule: A website lead becomes exactly one booking or one lead, with visible retry status

    @sbx-BOOK-01 @req-LEAD-HANDOFF
    Scenario: A booking handed off with its externalId is not duplicated when an answer is lost
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the product hands off a website booking request and ServiceTitan's answer is lost
      Then the booking carries the externalId and the Titan Map ids
      And the client looked the booking up by externalId before posting it again
      And exactly one booking exists for the externalId after the lost answer
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-LEAD-01 @req-LEAD-HANDOFF
    Scenario: A website enquiry goes to ServiceTitan as a lead form, and its attribution follows the lead's id
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When a website enquiry that is not a booking request is handed off with its web session
      Then the enquiry went to leads/form, never to leads
      And the lead form carried only its envelope's fields, with the service as summary and not the visitor's message
      And the web-lead-form attribution was accepted with the leadId that leads/form returned
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-RETRY-01
    Scenario: Retries wait as long as ServiceTitan asks, then the item is blocked after the limit
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When ServiceTitan asks the product to slow down, then keeps failing
      Then no retry was sent before the wait that Retry-After asked for
      And the queue showed the item retrying and then delivered
      And an item still failing after the retry limit is blocked with the failed-sync runbook
      And nothing the client logged, raised or recorded contains a credential or token

  Rule: Attribution is proven from ServiceTitan's own records where access allows

    @sbx-ATTR-01 @req-ATTR-OUTCOMES
    Scenario: Website leads are linked to booked jobs and invoice revenue
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the product reads the bookings, jobs, invoices and payments behind the website's leads
      Then booked jobs and revenue are linked to leads exactly as in the customer's exports
      And every lead without a booked job is listed for the attribution-mismatch runbook
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-ATTR-02
    Scenario: Web lead and web booking attributions are posted to marketing ads
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the product posts the web sessions of booked website leads and of a website enquiry
      Then the web booking and web lead attributions are accepted
      And the attribution posts carry only attribution fields
      And nothing the client logged, raised or recorded contains a credential or token

    @sbx-ATTR-03 @req-FAIL-ATTRIBUTION
    Scenario: ServiceTitan's attributed leads confirm every attribution the product posted
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When the product posts its attributions and reads back ServiceTitan's attributed leads for the same time window
      Then attributed-leads for the run's time window lists every attribution posted, with its lead type
      And nothing the client logged, raised or recorded contains a credential or token

  Rule: Webhooks are verified, retried by ServiceTitan and processed once

    @sbx-WEBHOOK-01 @req-WEBHOOK-INGEST
    Scenario: A signed V2 webhook survives receiver failures and is processed exactly once
      Given the product's app is connected to a ServiceTitan sandbox tenant
      When ServiceTitan delivers a signed V2 event while the receiver is failing, and a forged one arrives
      Then ServiceTitan's retries arrive on its schedule until the receiver succeeds
      And the event is processed exactly once
      And a delivery with a forged signature is rejected
      And nothing the client logged, raised or recorded contains a credential or token
