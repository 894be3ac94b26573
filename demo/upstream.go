package demo

import (
	"html/template"
	"net"
	"net/http"
	"sort"
	"strings"
)

// upstreamPage stands in for RC-CHAT: it lists the identity headers the
// sidecar injected, so a person (or a browser test) can see them.
var upstreamPage = template.Must(template.New("upstream").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>RC-CHAT demo upstream</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}td{font-family:monospace;word-break:break-all}</style>
</head>
<body>
<main>
<h1>RC-CHAT demo upstream</h1>
<p>This page plays RC-CHAT. These are the identity headers it received from the sidecar for <code>{{.Path}}</code>:</p>
<table id="identity">
<tr><th>Header</th><th>Value</th></tr>
{{range .Headers}}<tr><th scope="row">{{.Name}}</th><td data-header="{{.Name}}">{{.Value}}</td></tr>
{{else}}<tr><td colspan="2">none</td></tr>{{end}}
</table>
<form method="post" action="/sso/logout"><button type="submit">Sign out</button></form>
</main>
</body>
</html>
`))

type headerRow struct{ Name, Value string }

func upstreamHandler(w http.ResponseWriter, r *http.Request) {
	var rows []headerRow
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-rcchat-") || strings.HasPrefix(lower, "x-auth-request-") {
			rows = append(rows, headerRow{Name: name, Value: strings.Join(values, ", ")})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = upstreamPage.Execute(w, struct {
		Path    string
		Headers []headerRow
	}{r.URL.Path, rows})
}

func startUpstream() (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(upstreamHandler)}
	go func() { _ = srv.Serve(l) }()
	return l.Addr().String(), func() { _ = srv.Close() }, nil
}
