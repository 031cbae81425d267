Feature: The product claims no approval and no sandbox evidence
  ServiceTitan has not approved this product, and the product has no sandbox
  access yet. Nothing a customer or a partner reviewer reads may say otherwise.
  The honest way to say each thing is allowed: "No marketplace or partner
  approval is claimed."

  Rule: The offline product's own copy makes no such claim

    @req-CLAIM-APPROVAL
    Scenario: Product copy claims no marketplace listing or partner approval
      Given the offline product's customer-facing copy
      When they are read for claims forbidden by CLAIM-APPROVAL
      Then no forbidden claim is found

    @req-CLAIM-SANDBOX
    Scenario: Product copy claims no sandbox evidence
      Given the offline product's customer-facing copy
      When they are read for claims forbidden by CLAIM-SANDBOX
      Then no forbidden claim is found

  Rule: Documents prepared for each customer make no such claim

    @per-tenant @req-CLAIM-APPROVAL @req-CLAIM-SANDBOX
    Scenario: A tenant's documents claim no approval and no sandbox evidence
      Given the tenant's customer-reviewed documents
      When they are read for claims forbidden by CLAIM-APPROVAL and CLAIM-SANDBOX
      Then no forbidden claim is found

  Rule: The evidence report says plainly what it is

    @req-CLAIM-SANDBOX
    Scenario: The report never presents an offline run or a dry run as sandbox evidence
      Given the evidence report's statement of this run's mode
      Then it says that no sandbox tenant evidence exists unless the run used the integration environment
