// Package caddywhmcsauth plugs the whmcs_auth module into Caddy: importing
// it (what `xcaddy build --with github.com/rcchat/caddy-whmcs-auth` does)
// registers the `http.handlers.whmcs_auth` module and its Caddyfile
// directive. The code lives in the packages beside it; see README.md.
package caddywhmcsauth

import (
	_ "github.com/rcchat/caddy-whmcs-auth/caddymodule"
)
