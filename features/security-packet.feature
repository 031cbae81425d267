@req-SEC-PACKET
Feature: The security packet documents the boundaries the product keeps
  The security packet and implementation playbook is written from the policies
  on every run (packets/security-packet.md, and summarised in the HTML report).
  It tells a partner reviewer how the product works without credentials today,
  which data each record may hold, how consent is recorded, how long data is
  kept, and how credentials must be stored once API access exists.

  Rule: The packet states what a reviewer needs, and nothing it must not

    Scenario: The security packet states every required topic
      Given the security packet rendered from the policies
      Then it states the current no-credential mode, data minimization per envelope, consent artifacts, retention windows and future encrypted storage

    @req-CLAIM-APPROVAL @req-CLAIM-OVERPROMISE
    Scenario: The security packet makes no forbidden claim
      Given the security packet rendered from the policies
      Then it makes no forbidden claim

    @req-SEC-NO-CREDENTIALS
    Scenario: The security packet holds no credential and no personal data
      Given the security packet rendered from the policies
      Then it holds no credential and no unmasked e-mail, phone number or street address

  Rule: Nothing the gate writes shows personal data, credentials or claims

    @req-SEC-BOUNDARIES
    Scenario: Findings in the report show personal data only masked
      Given a finding that quotes a lead's e-mail, phone number and street address
      When the report is built from it
      Then the report shows each of them masked

    @req-SEC-NO-CREDENTIALS @req-SEC-BOUNDARIES
    Scenario: The gate audits every file it writes
      Given the checks the gate runs over the files it writes
      When a written file holds a credential, an unmasked e-mail address and a forbidden claim
      Then the audit reports each of them without repeating them
