Feature: The product claims no approval, no sandbox evidence and nothing API-backed as current
  ServiceTitan has not approved this product, and the product has no sandbox
  access and no ServiceTitan connection yet. Nothing a customer or a partner
  reviewer reads may say otherwise. The honest way to say each thing is
  allowed: "No marketplace or partner approval is claimed." Capabilities that
  need the ServiceTitan API may be described only under an explicit "Future"
  label. Disguised wording (lookalike letters, hidden characters, markup inside
  a phrase, line breaks) is read the way a person would read it.

  Rule: The offline product's own copy makes no such claim

    @req-CLAIM-APPROVAL @req-CLAIM-SANDBOX @req-CLAIM-OVERPROMISE @req-CLAIM-WEBHOOK
    Scenario Outline: Product copy makes no claim that <requirement> forbids
      Given the offline product's customer-facing copy
      When they are read for claims forbidden by <requirement>
      Then no forbidden claim is found

      Examples:
        | requirement       | so the copy claims                                          |
        | CLAIM-APPROVAL    | no marketplace listing or partner approval                  |
        | CLAIM-SANDBOX     | no sandbox evidence                                         |
        | CLAIM-OVERPROMISE | no API-backed capability as current, outside a Future label |
        | CLAIM-WEBHOOK     | no production webhook endpoint                              |

  Rule: Documents prepared for each customer make no such claim

    @per-tenant @req-CLAIM-APPROVAL @req-CLAIM-SANDBOX
    Scenario: A tenant's documents claim no approval and no sandbox evidence
      Given the tenant's customer-reviewed documents
      When they are read for claims forbidden by CLAIM-APPROVAL and CLAIM-SANDBOX
      Then no forbidden claim is found

    @per-tenant @req-CLAIM-OVERPROMISE @req-CLAIM-WEBHOOK
    Scenario: A tenant's documents promise nothing API-backed as current and no webhook endpoint
      Given the tenant's customer-reviewed documents
      When they are read for claims forbidden by CLAIM-OVERPROMISE and CLAIM-WEBHOOK
      Then no forbidden claim is found

  Rule: The evidence report says plainly what it is

    @req-CLAIM-SANDBOX
    Scenario: The report never presents an offline run or a dry run as sandbox evidence
      Given the evidence report's statement of this run's mode
      Then it says that no sandbox tenant evidence exists unless the run used the integration environment

  Rule: The claim boundary itself cannot be fooled or over-reach

    @req-CLAIM-APPROVAL @req-CLAIM-SANDBOX @req-CLAIM-OVERPROMISE @req-CLAIM-WEBHOOK
    Scenario: Every example claim in the claim policy is caught as written
      Given the example claims in the claim policy as written
      Then the claim boundary catches every one

    @req-CLAIM-APPROVAL @req-CLAIM-SANDBOX @req-CLAIM-OVERPROMISE @req-CLAIM-WEBHOOK
    Scenario Outline: A claim disguised with <disguise> is still caught
      Given every example claim in the claim policy disguised with <disguise>
      Then the claim boundary catches every one

      Examples:
        | disguise                               |
        | lookalike letters from other alphabets |
        | invisible zero-width characters        |
        | an HTML tag inside a word              |
        | tags around words                      |
        | HTML entities                          |
        | a line break inside the phrase         |
        | full-width letters                     |
        | upper case                             |
        | paragraphs before and after it         |

    @req-CLAIM-APPROVAL @req-CLAIM-OVERPROMISE @req-CLAIM-WEBHOOK
    Scenario: Honest wording is not reported
      Given the honest sentences in the claim policy and its claims placed under a Future label
      Then none of them is reported as a forbidden claim

    @req-CLAIM-APPROVAL @req-CLAIM-SANDBOX @req-CLAIM-WEBHOOK
    Scenario: A Future label does not excuse an approval, sandbox evidence or endpoint address claim
      Given the example claims in the claim policy as written
      Then a Future label excuses only the claims about API-backed capabilities
