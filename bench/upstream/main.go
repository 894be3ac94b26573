// Command upstream is the stand-in for RC-CHAT in bench/load.sh: it answers
// every request with 200 "ok", so the load test measures the proxy in front
// of it rather than the application.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address; loopback only by intent")
	capture := flag.String("capture", "", "write the identity headers of the first request that carries them to this file")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// The script reads the chosen port from this line.
	fmt.Fprintf(os.Stdout, "upstream: listening %s\n", l.Addr())
	ok := []byte("ok")
	var once sync.Once
	log.Fatal(http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *capture != "" && r.Header.Get("X-Rcchat-User-Id") != "" {
			once.Do(func() { writeIdentity(*capture, r.Header) })
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(ok)
	})))
}

// writeIdentity saves the identity headers as "Name value" lines, so the
// script can replay the same bytes without the module: the difference
// between the two runs is then the module's work, not the headers' weight.
func writeIdentity(path string, h http.Header) {
	var lines []string
	for name, vs := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-rcchat-") || strings.HasPrefix(lower, "x-auth-request-") {
			lines = append(lines, name+" "+vs[0])
		}
	}
	sort.Strings(lines)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		log.Print(err)
	}
}
