Feature: Manual Launch and Growth packages run from customer-reviewed exports and screenshots
  Today both packages are delivered by hand. Each package lists what it
  delivers and which exports and screenshots the customer reviews and
  supplies; the gate checks each customer has supplied them. A missing export
  is a finding routed to the failed-sync runbook, never a crash.

  Rule: Each package says what it needs

    @req-PKG-MANUAL
    Scenario: Every export a package needs is one the connection matrix would read
      Given the manual package definitions
      Then every export a package needs is read by a matrix family the package uses

  Rule: Each customer has supplied what the package needs

    @per-tenant @req-PKG-MANUAL
    Scenario: The customer has supplied every export and screenshot the package needs
      Given the tenant's package and the exports and evidence it supplied
      Then nothing the package needs is missing
