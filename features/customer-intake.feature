@per-tenant
Feature: What a contractor actually has becomes a judged tenant, and nothing unreviewed passes as mapped
  An operator onboards a contractor from what it has: exports of its ServiceTitan screens, the
  website's own list of services, areas and lead sources, its form submissions and screenshots.
  The Titan Map is drafted by matching names, and every drafted entry waits for the customer's
  review: until a customer role confirms it on a date, it is never used as mapped. Screenshots
  are read with OCR, not just hashed: their text is checked like any other file, and a list
  screenshot must show the same names as the export it stands beside.

  Rule: Only Titan Map entries the customer reviewed are used as mapped

    @req-MAP-REVIEW @req-MAP-TAXONOMY
    Scenario: Every Titan Map entry was reviewed with the customer
      Given the tenant's Titan Map entries
      When its entries are checked for the customer's review
      Then every entry was confirmed by a customer role on a date

  Rule: Screenshots are read, not just hashed

    @req-EVIDENCE-SCREENSHOTS @req-SEC-NO-CREDENTIALS @req-SEC-BOUNDARIES
    Scenario: The text on the tenant's screenshots holds no credential and no personal data
      Given the screenshots in the tenant's evidence
      When they are read with OCR
      Then every screenshot could be opened, and one OCR could not read is reported as not read
      And no credential or personal data is in their text

    @req-EVIDENCE-SCREENSHOTS @req-MAP-TAXONOMY
    Scenario: A list screenshot shows the same names as the export beside it
      Given the screenshots in the tenant's evidence
      When they are read with OCR
      Then every name on a list screenshot is in its export, and every active exported name is on it
