Feature: Each customer's eligibility for every future API family is known, and a blocked family is routed to a runbook
  For every customer, the gate works out for each API family of the connection
  matrix whether the product could reach it once access exists: eligible, or
  blocked because the module is not purchased, no one at the customer
  authorizes it, the authorization was revoked or expired, or a scope is not
  granted. A blocked family that the customer's package would use is routed
  to the disconnect runbook and the package continues manually.

  Rule: The first gate that fails decides why a family is blocked

    @req-ACCESS-GATES @req-FAIL-AUTH
    Scenario: Eligibility outcomes for the CRM family of a Launch customer
      Given a Launch customer and the CRM family of the connection matrix
      Then the customer's eligibility for that family is as follows
        | module purchased | authorization owner | connection | scopes granted | outcome                                |
        | no               | yes                 | connected  | all            | blocked: module not purchased          |
        | yes              | no                  | connected  | all            | blocked: no authorization owner        |
        | yes              | yes                 | revoked    | all            | blocked: authorization revoked/expired |
        | yes              | yes                 | expired    | all            | blocked: authorization revoked/expired |
        | yes              | yes                 | connected  | none           | blocked: scope not granted             |
        | yes              | yes                 | connected  | all            | eligible                               |

  Rule: Every customer's eligibility is worked out and routed

    @per-tenant @req-ACCESS-GATES @req-FAIL-AUTH
    Scenario: Every API family gets one eligibility outcome for the customer
      Given the tenant's eligibility for every API family
      Then every family is eligible or blocked for one named reason
      And the tenant's profile names only modules and families the matrix knows

    @per-tenant @req-FAIL-AUTH
    Scenario: The customer has granted no scope the product does not ask for
      Given the tenant's eligibility for every API family
      Then the tenant's connection grants no scope outside the matrix

    @per-tenant @req-FAIL-AUTH
    Scenario: A family the package uses but cannot reach is routed to the disconnect runbook
      Given the tenant's eligibility for every API family
      When the families its package uses are checked
      Then every blocked family is routed to the disconnect runbook
      And no family the package cannot be delivered without is blocked

  Rule: The customer's access checklist names every gate

    @per-tenant @req-ACCESS-GATES @req-MATRIX-MAPPING
    Scenario: The customer's access checklist names the admin gate, module gates, owners and scopes
      Given the tenant's access checklist
      Then it names the admin gate and, for every family the package uses, its module gate, owner, scopes and use
      And every API-backed item in it is labelled Future
      And it makes no claim the claim policy forbids
