@req-SEC-BOUNDARIES
Feature: The product keeps only the data it needs, with consent, for a limited time
  Before any API-backed transfer exists, the product defines exactly which
  fields each kind of record may hold: what the website's lead form collects,
  what a queued handoff carries, and the ServiceTitan booking fields a future
  handoff would send. The Titan Map holds ids and names, never personal data.
  Exports are kept for a limited time and never hold data the product does not
  use. Every lead has a consent record. Tokens are never written anywhere.

  Rule: Every tenant file follows its documented contract
    A tenant folder is read once, before anything else judges it. A file that
    breaks its contract (fixtures/README.md) stops the tenant from being judged
    at all: this scenario names the file, line, key and fix, and the tenant's
    other scenarios fail unjudged.

    @per-tenant @tenant-contract
    Scenario: Every tenant file follows its documented contract
      Given the tenant's files
      Then every file follows its documented contract

  Rule: Records carry only the fields of their envelope

    @per-tenant
    Scenario: Lead submissions carry only lead-envelope fields
      Given the tenant's lead submissions
      When they are checked against the lead envelope
      Then no record carries a field outside its envelope

    @per-tenant
    Scenario: Queue items carry only queue fields and booking-envelope fields
      Given the tenant's sync-queue items
      When they are checked against the queue item envelope
      Then no record carries a field outside its envelope

    Scenario: The booking envelope is exactly what ServiceTitan's booking-create call takes
      Given the booking envelope and ServiceTitan's booking-create fields
      Then the envelope holds only booking-create fields and every required one

  Rule: The Titan Map holds ids, names and mapping notes only

    @per-tenant
    Scenario: The Titan Map holds no customer personal data
      Given the tenant's Titan Map
      Then it holds only ids, names, codes and notes, and no personal data

  Rule: Exports are kept for a limited time and only with what the product uses

    @per-tenant
    Scenario: Exports are inside their retention window
      Given the tenant's exports and their capture date
      Then they are younger than the export retention window

    @per-tenant
    Scenario: Lead submissions are inside their retention window
      Given the tenant's lead submissions
      Then every submission is younger than the lead retention window

    @per-tenant
    Scenario: Exports hold no payment card data, identity numbers or free-text notes
      Given the tenant's exports and their capture date
      Then no export holds a field or a value the product's use does not need

  Rule: No tenant file holds sensitive personal data
    A card number, an identity number, bank details, a date of birth or a
    driver's licence number is never needed, in any file: evidence notes and
    consent logs are where an office pastes what it should not.

    @per-tenant
    Scenario: No tenant file holds a card, identity, bank, birth date or licence number
      Given the tenant's files
      Then no file holds sensitive personal data

    Scenario: Every sensitive-data detector finds its samples and passes over its near-misses
      Given the sensitive-data detectors
      Then each finds its samples and none of its near-misses

  Rule: Every lead was submitted with consent

    @per-tenant
    Scenario: Every lead references a valid consent artifact
      Given the tenant's lead submissions
      Then each one references a consent artifact with its capture time, text version, text hash and method

  Rule: No token or secret is ever written to disk

    Scenario: No code writes a token or secret to a file
      Given the suite's own code and any code shipped with the offline product
      Then nothing in it writes a token or secret to a file, a store or a log file
