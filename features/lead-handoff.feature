Feature: Website leads are handed off honestly: kept locally today, ready for a booking handoff later
  Today a website lead is stored on the website and the office gets a notification
  as the fallback; nothing is sent to ServiceTitan. For the future handoff through
  the API, each lead already has the booking it would become: exactly ServiceTitan's
  booking fields that the booking allow-list permits, an external id that finds the
  booking again instead of creating it twice, and the campaign, job type and business
  unit taken from the customer-reviewed Titan Map.

  Rule: Today the website stores each lead, notifies the office and sends nothing to ServiceTitan

    @per-tenant @req-LEAD-HANDOFF @req-QUEUE-STATES
    Scenario: The offline handoff cycle opens no network connection
      Given the tenant's website leads awaiting handoff
      When the offline handoff cycle runs with every network connection blocked
      Then the cycle attempted no network connection

    @per-tenant @req-LEAD-HANDOFF
    Scenario: Every lead is kept locally and the office is notified instead
      Given the tenant's website leads awaiting handoff
      When the offline handoff cycle runs with every network connection blocked
      Then every lead has exactly one local record and one notification fallback record

    @per-tenant @req-LEAD-HANDOFF @req-QUEUE-STATES
    Scenario: No lead is delivered while offline
      Given the tenant's website leads awaiting handoff
      When the offline handoff cycle runs with every network connection blocked
      Then every lead's queue item is queued or in review, and none is delivered

  Rule: The booking each lead would become carries only what the booking allow-list permits

    @per-tenant @req-LEAD-HANDOFF
    Scenario: Booking envelopes carry only booking allow-list fields, in ServiceTitan's booking shape
      Given the tenant's website leads awaiting handoff
      When the offline handoff cycle runs with every network connection blocked
      Then no booking envelope carries a field outside the booking allow-list
      And every booking envelope fits ServiceTitan's booking-create request

    @per-tenant @req-LEAD-HANDOFF
    Scenario: A lead's external id is the same every time and holds no personal data
      Given the tenant's website leads awaiting handoff
      When the offline handoff cycle runs with every network connection blocked
      Then preparing each lead again gives the same external id
      And no external id contains any of the lead's personal data
      And every queue item of the tenant carries the external id of its lead

  Rule: ServiceTitan ids come from the Titan Map, and a lead without a trustworthy mapping waits for review

    @per-tenant @req-LEAD-HANDOFF
    Scenario: Campaign, job type and business unit come from the tenant's Titan Map
      Given the tenant's website leads awaiting handoff
      When the offline handoff cycle runs with every network connection blocked
      Then every booking envelope names the job type, business unit and campaign its Titan Map entries give

    @per-tenant @req-LEAD-HANDOFF
    Scenario: A lead whose mapping is missing or drifted goes to review, never to queued
      Given the tenant's website leads awaiting handoff
      When the offline handoff cycle runs with every network connection blocked
      Then every lead whose mapping is missing or drifted goes to review with the reason
      And no item in the tenant's queue waits as queued or retrying while its lead's mapping is missing or drifted
