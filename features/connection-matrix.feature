Feature: The connection readiness matrix keeps every future API family separate and minimal
  Before ServiceTitan grants access, the product states in one matrix which of
  ServiceTitan's API families it would use in Future mode, with which scopes,
  for what minimum use, behind which module and admin gate, and who at the
  customer authorizes each. Nothing is connected today. The partner
  application packet and every customer's access checklist are rendered from
  this matrix, so they cannot drift apart.

  Rule: Families are kept apart and ask only for what they use

    @req-MATRIX-SCOPES
    Scenario: No scope or endpoint belongs to two API families
      Given the connection readiness matrix
      Then no scope or endpoint appears in two API families
      And every scope and endpoint belongs to its own family's ServiceTitan module

    @req-MATRIX-SCOPES
    Scenario: The matrix asks for no scope that none of its endpoints needs
      Given the connection readiness matrix
      Then every scope it asks for is needed by one of its family's endpoints

    @req-MATRIX-SCOPES
    Scenario: No other policy names a scope that is not in the matrix
      Given the connection readiness matrix
      Then no other policy names a scope the matrix does not ask for

    @req-MATRIX-SCOPES
    Scenario: The sandbox protocol tests and the matrix ask for the same scopes
      Given the connection readiness matrix
      Then every scope a sandbox protocol test needs is in the matrix
      And every scope in the matrix is needed by a sandbox protocol test once the protocol names scopes

    @req-MATRIX-SCOPES
    Scenario: Every endpoint exists in ServiceTitan's published API with the scope the matrix gives it
      Given the connection readiness matrix
      Then every endpoint it names is published by ServiceTitan and needs the scope the matrix gives it

    @req-MATRIX-SCOPES
    Scenario: The product would write to a customer's ServiceTitan only where a use needs it
      Given the connection readiness matrix
      Then every write scope has a write use and every other scope is read-only

    @req-MATRIX-SCOPES @req-LEAD-HANDOFF
    Scenario: A website enquiry goes to the endpoint the recorded decision chose, never to the one it was chosen over
      Given the connection readiness matrix
      Then every endpoint decision is the matrix's, its alternative is not, and a sandbox protocol test confirms it

  Rule: Each family is mapped to a minimum use, a module gate and an authorization owner

    @req-MATRIX-MAPPING
    Scenario: Every family names its minimum use, its module gate and its customer authorization owner
      Given the connection readiness matrix
      Then every API family names its minimum product use, its module gate and its customer authorization owner

    @req-MATRIX-MAPPING @req-RUNBOOK-SUPPORT
    Scenario: The partner application packet maps every family and labels it Future
      Given the partner application packet rendered from the matrix
      Then it maps every API family to its minimum product use, module gate and customer authorization owner
      And every API-backed item in it is labelled Future
      And it makes no claim the claim policy forbids
