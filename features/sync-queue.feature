Feature: The offline sync queue shows where each lead handoff stands, without processing any job
  Today every website lead is stored on the website and the office is notified;
  nothing is sent to ServiceTitan. The sync queue shows where each lead's handoff
  would stand: queued, in review, retrying, blocked or completed by hand by an
  operator. "Delivered" exists only for the future handoff through the API and can
  only be reached with a ServiceTitan connection.

  Rule: The queue policy defines the states and who may change them

    @req-QUEUE-STATES
    Scenario: The sync queue policy defines the five offline states and the future delivered state
      Given the sync queue policy
      Then it defines these queue states:
        | state           | ends the handoff | needs a ServiceTitan connection |
        | queued          | no               | no                              |
        | review          | no               | no                              |
        | retrying        | no               | no                              |
        | blocked         | no               | no                              |
        | manual-complete | yes              | no                              |
        | delivered       | yes              | yes                             |
      And every reason for review or blocked names the runbook that handles it
      And the report shows the queue's state diagram drawn from the policy, with a text alternative

  Rule: Every tenant's queue follows the policy

    @per-tenant @req-QUEUE-STATES
    Scenario: Every change of state in a tenant's queue is one the policy allows, in time order
      Given the tenant's sync queue snapshot
      When the snapshot is checked against the sync queue policy
      Then no queue item shows a change of state the policy does not allow
      And no queue item shows a history that goes back in time
      And no queue item shows a state that differs from its history
      And no queue item shows a reason the policy does not define

    @per-tenant @req-QUEUE-STATES @req-FAIL-DELIVERY
    Scenario: Retry counts in a tenant's queue respect the retry policy
      Given the tenant's sync queue snapshot
      When the snapshot is checked against the sync queue policy
      Then no queue item shows more attempts than the retry policy allows

    @per-tenant @req-QUEUE-STATES
    Scenario: Every manual completion names the operator role and cites evidence that exists
      Given the tenant's sync queue snapshot
      When the snapshot is checked against the sync queue policy
      Then no queue item shows a manual completion without operator role or evidence

    @per-tenant @req-QUEUE-STATES @req-LEAD-HANDOFF
    Scenario: A tenant that was never connected shows no delivery and no delivery attempt
      Given the tenant's sync queue snapshot
      When the snapshot is checked against the sync queue policy
      Then no queue item shows a delivery or delivery attempt while the tenant was never connected

  Rule: A handoff that cannot be delivered after its retries is blocked and routed to a runbook

    @per-tenant @req-FAIL-DELIVERY @req-QUEUE-STATES
    Scenario: Items that used up their retries are blocked, and every item needing an operator names its runbook
      Given the tenant's sync queue snapshot
      When the snapshot is checked against the sync queue policy
      Then no queue item shows used-up retries without being blocked
      And no queue item shows a review or blocked state without its runbook
      And the report lists every item in review or blocked with its reason, runbook and age

    @req-FAIL-DELIVERY
    Scenario: A handoff ServiceTitan keeps refusing is retried with backoff, then blocked with the failed-sync runbook
      Given the sync queue policy
      When a queued handoff's delivery fails with these answers:
        | attempt | status | retry after seconds |
        | 1       | 503    |                     |
        | 2       | 429    | 120                 |
        | 3       | 500    |                     |
        | 4       | 502    |                     |
        | 5       | 503    |                     |
      Then the handoff goes through these states:
        | attempt | state    | wait before next attempt in seconds |
        | 1       | retrying | 10                                  |
        | 2       | retrying | 120                                 |
        | 3       | retrying | 60                                  |
        | 4       | retrying | 300                                 |
        | 5       | blocked  |                                     |
      And it ends blocked for "retries-exhausted" with the runbook "failed-sync"

    @req-FAIL-DELIVERY
    Scenario: A handoff ServiceTitan rejects for good is blocked at once with the failed-sync runbook
      Given the sync queue policy
      When a queued handoff's delivery fails with these answers:
        | attempt | status | retry after seconds |
        | 1       | 400    |                     |
      Then the handoff goes through these states:
        | attempt | state   | wait before next attempt in seconds |
        | 1       | blocked |                                     |
      And it ends blocked for "rejected-by-servicetitan" with the runbook "failed-sync"
