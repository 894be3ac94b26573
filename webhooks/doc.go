// Package webhooks receives WHMCS events on POST /api/webhooks/whmcs and
// keeps companies in step with WHMCS, which is the source of truth for who
// may use RC-CHAT.
//
// Three layers cooperate, each repairing what the previous one can miss:
//
//  1. The Receiver authenticates an event (HMAC-SHA256 or the legacy
//     RC-CHAT token), stores it and applies the status it implies in one
//     durable transaction, and only then answers 200. The next request of
//     that company at the edge therefore already sees the change.
//  2. The same transaction enqueues an outbox job ("webhook.confirm") that
//     asks WHMCS for the service's real state and applies it, so the final
//     state is WHMCS's whatever order events arrived in. While WHMCS is
//     unreachable the implied state stays and the job retries with backoff;
//     WHMCS refusing our API credentials parks the job (never retried into
//     an IP ban).
//  3. The Reconciler sweeps every company periodically and repairs drift
//     from events that never arrived.
//
// Design choices worth knowing:
//
//   - Provisioning on AfterModuleCreate happens in the confirmation job, not
//     in the receiving transaction: creating a company needs the client's
//     name (GetClientsDetails), and WHMCS must never be called while the
//     state file's write lock is held. An AfterModuleCreate of a client
//     without a company is therefore stored with nothing to apply, and the
//     job provisions the company from GetClientsDetails + GetClientsProducts
//     through whmcsauth.Provisioner, ahead of the client's first login.
//   - An event only changes a company when it concerns the company's
//     RC-CHAT service: WHMCS fires module hooks for every product (web
//     hosting, VPS...), and suspending a client's unrelated hosting must not
//     suspend their help desk. An event whose pid is not mapped to a plan is
//     stored but changes nothing; suspensions and terminations of a mapped
//     service other than the one the company follows change nothing either
//     (another service still holds the company), while an activation of any
//     mapped service activates it, since a login with that service would.
//   - Legacy RC-CHAT bodies ({clientid, serviceid, status, domain}) carry no
//     event id. Their id is derived from the content (client, service,
//     status) plus a generation number: a repeat of a body is a duplicate
//     while it would change nothing (the company is still in the status
//     that body implied), and becomes a new event, with the next
//     generation, once the company's status has moved away, so a later real
//     status change with identical content still applies. Legacy events are
//     applied by client id and confirmed by resyncing the whole client,
//     because RC-CHAT's own sender is known to put the product id in
//     serviceid.
package webhooks
