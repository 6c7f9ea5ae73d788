// Command getcert is a TLS server behind SNItch that picks each
// connection's certificate by the server name SNItch routed on: its
// tls.Config.GetCertificate reads the Handoff of the connection
// (ClientHelloInfo.Conn), a name SNItch already checked and lowercased,
// and serves DIR/NAME.crt with DIR/NAME.key, or DIR/default.crt and
// DIR/default.key for a client that sent no name or one without files.
//
//	getcert -s SOCKET -d DIR [-u USER]
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"snitch"
)

// certs loads and keeps the certificates of DIR by name.
type certs struct {
	dir string
	mu  sync.Mutex
	by  map[string]*tls.Certificate
}

// load - the certificate for name, loaded once.  name is a host name
// SNItch checked (letters, digits, hyphens, dots): it cannot leave dir.
func (cs *certs) load(name string) (*tls.Certificate, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.by[name]; ok {
		return c, nil
	}
	c, err := tls.LoadX509KeyPair(filepath.Join(cs.dir, name+".crt"),
		filepath.Join(cs.dir, name+".key"))
	if err != nil {
		return nil, err
	}
	cs.by[name] = &c
	return &c, nil
}

// get - tls.Config.GetCertificate: the handoff's name's, else default.
func (cs *certs) get(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if h := snitch.HandoffOf(hello.Conn); h != nil && h.ServerName != "" {
		if c, err := cs.load(h.ServerName); err == nil {
			return c, nil
		}
	}
	return cs.load("default")
}

func main() {
	sock := flag.String("s", "", "the handoff socket to listen on")
	dir := flag.String("d", "", "directory of NAME.crt and NAME.key")
	peer := flag.String("u", "", "keep only channels from this user")
	flag.Parse()
	if *sock == "" || *dir == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	log.SetFlags(0)
	log.SetPrefix("getcert: ")
	cs := &certs{dir: *dir, by: make(map[string]*tls.Certificate)}
	if _, err := cs.load("default"); err != nil {
		log.Fatal(err)
	}
	l, err := snitch.Listen(*sock, &snitch.Options{PeerUser: *peer})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "server_name=%s\n", r.TLS.ServerName)
		}),
		TLSConfig:         &tls.Config{GetCertificate: cs.get},
		ReadHeaderTimeout: 10 * time.Second,
	}
	// A handover (Drain, then waiting for the clients) is in the
	// https example; this one is about certificates.
	log.Printf("listening on %s", *sock)
	log.Fatal(srv.ServeTLS(l, "", ""))
}
