// Package demo is the `caddy whmcs-demo` subcommand: the module in front of
// a small upstream that shows the identity headers it receives, with the
// bundled WHMCS simulator standing in for WHMCS. It needs nothing external
// and is never started by a production config.
package demo

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "whmcs-demo",
		Usage: "[--listen <addr>] [--state <dir>]",
		Short: "Runs the WHMCS auth sidecar against a built-in WHMCS simulator",
		Long: `
Starts the whmcs_auth module with a WHMCS simulator seeded with demo clients
(printed at start, with their service passwords) and a small upstream page
that shows the identity headers RC-CHAT would receive. Open the printed URL,
sign in with a demo client, and watch the headers. Ctrl-C stops it.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("listen", "127.0.0.1:0", "address of the demo site (port 0 picks a free one)")
			cmd.Flags().String("state", "", "directory for the demo state file (default: a temporary directory)")
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(run)
		},
	})
}

func run(fl caddycmd.Flags) (int, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d, err := Start(Options{Listen: fl.String("listen"), StateDir: fl.String("state")})
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	defer d.Close()

	fmt.Printf("demo: serving %s\n", d.URL)
	for _, c := range d.Clients {
		fmt.Printf("demo client: %s %s (%s, %s)\n", c.Email, c.Password, c.Plan, c.Status)
	}
	fmt.Printf("demo: WHMCS simulator at %s\n", d.WHMCSURL)
	fmt.Println("demo: press Ctrl-C to stop")
	<-ctx.Done()
	return caddy.ExitCodeSuccess, nil
}
