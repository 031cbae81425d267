@req-SEC-NO-CREDENTIALS
Feature: The offline product holds no ServiceTitan credentials, tokens or secrets
  Today the product has no ServiceTitan connection, so nothing it ships and
  nothing this gate writes may hold a client id, client secret, app key,
  access token, signing key or any other secret. When a connection exists one
  day, credentials will come only from environment variables.
  A finding names the file, the line and the kind of credential, and shows only
  the first 4 characters and the length of what was found, never the value.
  A file the scan cannot read is a failure, never a pass.

  Rule: Nothing the product ships or the gate reads holds a credential

    Scenario: The offline product's files hold no credential
      Given every file of the offline product
      When they are scanned for credentials
      Then no credential is found
      And every file could be checked

    @per-tenant
    Scenario: A tenant's files hold no credential
      Given every file in the tenant's folder, exports included
      When they are scanned for credentials
      Then no credential is found
      And every file could be checked

    Scenario: The policy files hold no credential
      Given every policy file
      When they are scanned for credentials
      Then no credential is found
      And every file could be checked

  Rule: The scan recognises credentials however they are written

    Scenario Outline: The scan catches <credential> written as <written as>
      Given <credential> made up for this run and written as <written as>
      When it is scanned for credentials
      Then the scan reports it without showing its value

      Examples:
        | credential                              | written as          |
        | a client id                             | plain text          |
        | a client secret                         | a JSON string value |
        | an app key                              | a URL query         |
        | an access token                         | a YAML value        |
        | a bearer header                         | an HTML attribute   |
        | a client secret assignment              | base64              |
        | a webhook signing key                   | a CSV cell          |
        | a secret-like name with a random value  | a JSON string value |
        | a JSON web token                        | base64              |
        | a private key                           | plain text          |
        | a tenant id beside a client id          | a YAML value        |

  Rule: Obvious placeholders are allowed, each for a documented reason

    Scenario: No allow-list entry excuses a real-looking credential
      Given the credential policy's allow-list
      Then every entry gives the reason it is safe
      And no entry excuses a credential made up for this run in any of the ServiceTitan formats
