// Command vscard-smtp-sink runs smtptest's SMTP server (STARTTLS, AUTH PLAIN) on loopback
// for the end-to-end tests, which start it with `go run`: it prints one JSON line with the
// SMTP address, the CA file to trust and an HTTP address where GET /mails lists what it
// received, and runs until its standard input closes. A test tool; never deployed.
package main

import (
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/vscard/vscard/server/notices/smtptest"
)

func main() {
	dir, err := os.MkdirTemp("", "vscard-smtp-sink-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv, err := smtptest.Listen(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /mails", func(w http.ResponseWriter, _ *http.Request) {
		type mail struct {
			To            []string `json:"to"`
			Data          string   `json:"data"`
			TLS           bool     `json:"tls"`
			Authenticated bool     `json:"authenticated"`
		}
		out := []mail{}
		for _, m := range srv.Mails() {
			out = append(out, mail{To: m.To, Data: string(m.Data), TLS: m.TLS, Authenticated: m.Authenticated})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	go func() { _ = http.Serve(ln, mux) }()
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"host": srv.Host, "port": srv.Port, "caFile": srv.CAFile, "http": "http://" + ln.Addr().String(),
		"username": smtptest.Username, "password": smtptest.Password,
	})
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test ends
}
