// Package webhooks receives WHMCS events on POST /api/webhooks/whmcs and
// keeps companies in step with WHMCS, which is the source of truth for who
// may use RC-CHAT.
//
// Three layers cooperate, each repairing what the previous one can miss:
//
//  1. The Receiver authenticates an event (HMAC-SHA256 or the legacy
//     RC-CHAT token), stores it and applies the status it implies in one
//     durable transaction, and only then answers 200. The next request of
//     that company at the edge therefore already sees the change. The two
//     events whose effect only WHMCS can tell (InvoicePaid, and
//     AfterModuleCreate of a new client) ask it between that transaction
//     and the answer (see below).
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
//   - InvoicePaid and AfterModuleCreate need WHMCS before their effect is
//     known: which services an invoice billed (GetInvoice's Hosting lines),
//     and the name and e-mail a new company is created with
//     (GetClientsDetails). WHMCS must never be called while the state
//     file's write lock is held, so the receiver works in this order:
//     (1) one transaction stores the event, whatever it implies without
//     WHMCS, and its confirmation job; (2) WHMCS is asked, every call
//     ending within Config.WHMCSWait (DefaultWHMCSWait, 2 s, under the
//     hook's 3 s timeout); (3) for a paid invoice, a second transaction
//     sets active the company of the invoice's client when it follows one
//     of the billed services (or follows none yet and one of them is a
//     mapped service, per ListClientServices), and saves the services as
//     the job's "invoice" step; for a create of a mapped product for a
//     client without a company, the company is provisioned as the job would
//     (GetClientsProducts, GetClientsDetails, whmcsauth.Provisioner, which
//     hashes and takes the write lock only after WHMCS answered); (4) the
//     200. Events that need no WHMCS (suspensions, unsuspensions,
//     terminations, creates of a known client or an unmapped product) skip
//     steps 2 and 3, so the hot path does not wait for WHMCS.
//   - WHMCS failing or slow at step 2 never fails the webhook: the event is
//     stored, so it is acknowledged, and the confirmation job does the same
//     work when WHMCS answers (the implied state is applied then). WHMCS
//     refusing our credentials parks the job at once (one event, one failed
//     authentication; the WHMCS client never retries). The job is kept in
//     every case, so WHMCS's final state (GetClientsProducts) still wins
//     afterwards; a paid invoice implies active only when GetInvoice says
//     Paid, and step 3 leaves the company alone when the job has already
//     read the invoice itself (it is due at once and may run concurrently),
//     so the implied state never overwrites WHMCS's.
//   - Crash points: after step 1 the event is on disk and its job queued,
//     so a crash before or during steps 2 and 3 (no 200 sent) is repaired by
//     the job after the restart, and a redelivery is a duplicate, answered
//     before anything is asked of WHMCS. A crash after provisioning leaves a
//     company the job then confirms. Provisioning stays exactly-once however
//     the receiver, the job and a first login race: the Provisioner
//     serialises each client, looks the company up and creates it in one
//     write transaction, and the store keeps one company per WHMCS client.
//   - An InvoicePaid with a userid but no invoiceid (the shipped hook always
//     sends the invoice) cannot say what was paid, so it implies nothing:
//     the client's company, if any, is resynced from WHMCS (its services,
//     the rule a login follows) before the answer, and again by the job.
//     Without either id it is refused as malformed.
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
