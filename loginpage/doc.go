// Package loginpage renders the sidecar's own HTML pages: the sign-in form
// and the pages shown when a company's subscription is suspended or
// cancelled. They are self-contained (embedded templates, inline CSS pinned
// by a CSP hash, no script), in Brazilian Portuguese by default and in
// English for browsers that prefer it, so they work before RC-CHAT's SPA is
// reachable and cannot be framed, cached or made to load anything.
package loginpage
