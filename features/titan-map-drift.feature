@per-tenant
Feature: Titan Map drift is caught before a handoff goes wrong
  The Titan Map is the customer-reviewed mapping from the website (services, service areas,
  lead sources, offers, memberships) to the tenant's ServiceTitan taxonomy (job types, business
  units, zones, campaigns, pricebook items, membership types). When the tenant deactivates,
  renames or moves something in ServiceTitan, handoffs silently go wrong: that is drift.
  Today the taxonomy comes from customer-supplied or demo exports; read-only imports come later,
  where scopes and purchased modules allow. Each drift names the ServiceTitan id and name, what the
  map expected and what the export says, its severity from the drift policy and the drift-conflict
  runbook; handoffs that depend on it go to review.

  Rule: Every ServiceTitan id the Titan Map uses still means what the customer reviewed

    @req-MAP-TAXONOMY @req-FAIL-DRIFT
    Scenario: The Titan Map agrees with the tenant's taxonomy exports
      Given the tenant's Titan Map and its taxonomy exports
      When the Titan Map is compared with the taxonomy exports
      Then no drift is found that the drift policy says blocks the gate

  Rule: Changes since the previous taxonomy snapshot are reported by ServiceTitan id, so reordering is not drift

    @req-FAIL-DRIFT
    Scenario: Changes since the previous taxonomy snapshot are reported by ServiceTitan id
      Given the tenant's Titan Map and its taxonomy exports
      When the taxonomy exports are compared with the tenant's previous snapshot
      Then no drift is found that the drift policy says blocks the gate
