@per-tenant
Feature: Website leads are traced to booked jobs and revenue, or listed for review
  Attribution is what the Growth package sells: which website leads became bookings, booked jobs,
  invoices and paid revenue, and through which campaign. Today it runs from customer-supplied exports
  (or demo outcomes); later from read-only imports where Marketing and Accounting access is authorized.
  Each lead is linked by the most confident rule in the attribution policy: the booking's external id,
  then ServiceTitan's own ids carried from booking to job to invoice to payment, then the same phone or
  email within a time window, then the same name and address. A lead with no link, or with two equally
  good candidates, is listed for manual review under the attribution-mismatch runbook and never credited.

  Rule: Each lead is linked by the most confident rule, and doubtful leads are never credited

    @req-ATTR-OUTCOMES @req-FAIL-ATTRIBUTION
    Scenario: Website leads are matched to their bookings, jobs, invoices and payments
      Given the tenant's website leads and outcome exports
      When each lead is matched to its outcome by the attribution rules in order of confidence
      Then no attribution problem is found that the attribution policy says blocks the gate

  Rule: The proof packet says plainly where its figures come from

    @req-ATTR-OUTCOMES
    Scenario: The proof packet states its source and never claims API verification
      Given the tenant's proof packet
      Then it says its figures come from customer-supplied exports or are demo outcomes
      And it never calls its figures API-verified
      And its list of leads for manual review shows no contact details
