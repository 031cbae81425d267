@req-GATE-TRACE
Feature: Every requirement is traced to scenarios, and every step to a check
  Partner reviewers read the requirements catalog and these feature files.
  The gate makes sure the two agree, and that every step a reviewer reads
  is carried out by a check that really runs.

  Scenario: Every requirement is proven by a scenario unless it is planned
    Given the requirements catalog, the sandbox protocol catalog and the feature files
    Then every requirement that is not planned is named by at least one scenario

  Scenario: Every scenario is tied to a known requirement
    Given the requirements catalog, the sandbox protocol catalog and the feature files
    Then every scenario names at least one requirement
    And every requirement a scenario names exists in the catalog

  Scenario: Every scenario that needs sandbox access names its protocol test
    Given the requirements catalog, the sandbox protocol catalog and the feature files
    Then every scenario that needs sandbox access names a protocol test from the catalog

  Scenario: Every control mapping names known requirements and declared controls
    Given the control mapping and the requirements catalog
    Then every requirement the control mapping names exists in the catalog
    And every control is proven by a requirement or says why it is a gap

  Scenario: Every step a reviewer reads is carried out by a check
    Given the step definitions the gate has loaded
    Then every step in the feature files has a step definition
    And every step definition is used by a feature
