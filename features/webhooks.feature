@req-WEBHOOK-INGEST
Feature: Webhook ingestion (reference receiver)
  ServiceTitan can notify an integration of changes by webhook. The product has
  no webhook endpoint today and claims none. The suite keeps a reference receiver
  that shows the behaviour a future receiver must have: it checks the signature,
  refuses stale or replayed events, processes each event once and shows an
  operator what happened to every event. These checks need no sandbox access.

  Rule: The receiver is a documented reference, not a production endpoint

    Scenario: The webhook policy declares the receiver a reference that is not production-ready
      Given the webhook ingestion policy
      Then the receiver is declared a reference that is not production-ready
      And the replay window covers ServiceTitan's whole retry schedule

  Rule: The receiver targets V2 webhooks and records what ServiceTitan does not publish

    Scenario: The webhook policy targets V2 and names the test that confirms each unpublished signature detail
      Given the webhook ingestion policy
      Then it targets V2 webhooks, subscribed per event
      And every signature detail ServiceTitan does not publish is an assumption a sandbox protocol test confirms

  Rule: Only genuine, fresh and new events are processed

    Scenario Outline: A <delivery> ends <state>
      Given the reference webhook receiver with a signing key generated for this run
      When it receives a <delivery>
      Then the delivery ends in the state "<state>"

      Examples:
        | delivery                                    | state     |
        | correctly signed new event                  | processed |
        | forged signature                            | rejected  |
        | unsigned delivery                           | rejected  |
        | event older than the replay window          | rejected  |
        | event from too far in the future            | rejected  |
        | repeated delivery of a processed event      | duplicate |
        | replayed event older than the replay window | rejected  |

    Scenario: An operator sees the processing state of every event
      Given the reference webhook receiver with a signing key generated for this run
      When it receives a correctly signed new event
      And it receives a forged signature
      Then the operator view shows the new event received, verified and processed
      And the operator view shows the forged delivery rejected
