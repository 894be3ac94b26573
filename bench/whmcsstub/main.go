// Command whmcsstub serves the WHMCS simulator (whmcsauth/whmcssim) with one
// active client for bench/load.sh, so the load test can sign in through the
// real module without a WHMCS installation.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// The credentials only ever guard a loopback port of a benchmark run.
const (
	identifier = "bench-identifier"
	secret     = "bench-secret"
	email      = "bench@example.com"
	password   = "bench-service-password"
)

func main() {
	productID := flag.Int64("product", 1, "WHMCS product id of the seeded service (map it with `plan`)")
	flag.Parse()
	sim := whmcssim.New(whmcssim.Options{Identifier: identifier, Secret: secret})
	client := sim.AddClient(whmcssim.Client{FirstName: "Bench", LastName: "Client", CompanyName: "Bench Ltda",
		Email: email, Status: "Active"})
	sim.AddService(whmcssim.Service{ClientID: client, ProductID: *productID, Name: "RC-CHAT", Password: password,
		Status: "Active", NextDueDate: time.Now().AddDate(0, 1, 0).Format("2006-01-02")})
	url, stop := sim.Start()
	defer stop()
	// One KEY=VALUE a line, for the script to read.
	fmt.Printf("WHMCS_API_URL=%s\nWHMCS_API_IDENTIFIER=%s\nWHMCS_API_SECRET=%s\nBENCH_EMAIL=%s\nBENCH_PASSWORD=%s\n",
		url, identifier, secret, email, password)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
