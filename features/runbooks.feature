Feature: Every failure mode has a runbook, and every finding is routed to one
  Failed syncs, disconnects, drift conflicts and attribution mismatches each
  have a manual runbook: what triggers it, how it is detected, which role owns
  it, how fast it is acknowledged and resolved, what the customer is told and
  the steps to take. Every kind of finding the gate can raise names the
  runbook that handles it.

  Rule: Runbooks are complete

    @req-RUNBOOK-SUPPORT
    Scenario: Every failure mode has a complete runbook
      Given the runbooks and the partner support model
      Then every failure mode has a runbook with a trigger, a detection signal, an owner role, customer communication and steps
      And every runbook has positive acknowledge and resolve windows and is acknowledged before it is resolved

  Rule: Every finding is routed

    @req-RUNBOOK-SUPPORT @req-FAIL-AUTH
    Scenario: Every kind of finding the gate can raise names a runbook that exists
      Given the runbooks and the partner support model
      When the finding kinds of every readiness check are collected
      Then every finding kind routed to a runbook names one that exists

  Rule: The runbooks are published for reviewers

    @req-RUNBOOK-SUPPORT
    Scenario: The published runbooks show every runbook with its response windows
      Given the published runbooks document
      Then it shows every runbook with its owner role and response windows
      And every API-backed item in it is labelled Future
      And it makes no claim the claim policy forbids
