Feature: Exceptions are governed: justified, owned, expiring and never silent
  An operator who must live with a known finding for a while (a drifted campaign the customer fixes next
  month) records a waiver: the finding kind and subject, or the requirement and scenario, it covers; why
  that is acceptable for now; the role that owns it; and when it expires, at most 90 days ahead. What a
  waiver covers is reported as waived, never as passed, and the gate result says how many waivers
  applied. Credentials found, claims of approval, personal data and pending sandbox tests are never
  waivable: a waiver for one of them stops the gate before it runs.

  Rule: A waiver applies only until it expires, and only while it still covers something

    @req-WAIVER-GOVERNED
    Scenario: The run's own waivers are current and each still covers a finding or scenario
      Given the waivers of the whole run
      Then none of them has expired
      And each still covers a finding or a failed scenario of this run

    @per-tenant @req-WAIVER-GOVERNED
    Scenario: The tenant's waivers are current and each still covers a finding or scenario
      Given the tenant's own waivers
      Then none of them has expired
      And each still covers a finding or a failed scenario of this run
