// Command caddy is Caddy with its standard modules, the whmcs_auth module
// and the `whmcs-demo` subcommand.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/rcchat/caddy-whmcs-auth/caddymodule"
	_ "github.com/rcchat/caddy-whmcs-auth/demo"
)

func main() {
	caddycmd.Main()
}
