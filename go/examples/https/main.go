// Command https is a net/http server behind SNItch, on package snitch:
// ServeTLS on a snitch.Listener, answering each request with what the
// handoff said (the server name, the client's address, its ALPN offer)
// and the address the received socket's getpeername gives.  On SIGTERM
// or SIGINT it drains (no new handoff, every one already sent is
// served) and exits once its requests are done; started with -r beside
// a running instance, it takes the socket path over (a handover).
//
//	https -s SOCKET -c CERT -k KEY [-n NAME] [-m MODE] [-u USER] [-r]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"snitch"
)

// handoffKey is the request context's key for the connection's handoff.
type handoffKey struct{}

// answer - the response: this backend's name and what it knows of the
// client, one key=value a line.
func answer(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h, _ := r.Context().Value(handoffKey{}).(*snitch.Handoff)
		if h == nil {
			http.Error(w, "not handed off by SNItch", http.StatusInternalServerError)
			return
		}
		ech := 0
		if h.ECH {
			ech = 1
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "backend=%s\nserver_name=%s\nclient=%s\npeer=%s\n"+
			"local=%s\nalpn=%s\nech=%d\nproto=%s\n", name, h.ServerName,
			h.Client, r.RemoteAddr, h.Local, strings.Join(h.ALPN, ","),
			ech, r.Proto)
	}
}

// openConns counts the server's connections not closed yet.
type openConns struct {
	mu sync.Mutex
	n  int
}

// track - http.Server.ConnState: count each connection from new to
// closed (or hijacked).
func (oc *openConns) track(_ net.Conn, state http.ConnState) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	switch state {
	case http.StateNew:
		oc.n++
	case http.StateClosed, http.StateHijacked:
		oc.n--
	}
}

// wait - until every connection is closed, or for at most limit.
func (oc *openConns) wait(limit time.Duration) {
	for end := time.Now().Add(limit); time.Now().Before(end); {
		oc.mu.Lock()
		n := oc.n
		oc.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func main() {
	sock := flag.String("s", "", "the handoff socket to listen on")
	cert := flag.String("c", "", "certificate, PEM")
	key := flag.String("k", "", "private key, PEM")
	name := flag.String("n", "go", "the name it answers with")
	mode := flag.String("m", "", "the socket's mode, octal")
	peer := flag.String("u", "", "keep only channels from this user")
	replace := flag.Bool("r", false, "take the socket over from a running instance")
	flag.Parse()
	if *sock == "" || *cert == "" || *key == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	log.SetFlags(0)
	log.SetPrefix("https: ")
	opts := &snitch.Options{
		Replace:  *replace,
		PeerUser: *peer,
		Refused: func(err error) {
			log.Printf("refused: %v", err)
		},
	}
	if *mode != "" {
		m, err := strconv.ParseUint(*mode, 8, 32)
		if err != nil || m > 0777 {
			log.Fatalf("-m %s: not an octal mode", *mode)
		}
		opts.Mode = os.FileMode(m)
	}
	l, err := snitch.Listen(*sock, opts)
	if err != nil {
		log.Fatal(err)
	}
	conns := &openConns{}
	srv := &http.Server{
		Handler:   answer(*name),
		ConnState: conns.track,
		// tls.Conn gives its inner connection: HandoffOf finds the
		// handoff through it.
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, handoffKey{}, snitch.HandoffOf(c))
		},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.Default(),
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		log.Printf("draining")
		l.Drain()
	}()
	log.Printf("listening on %s", *sock)
	err = srv.ServeTLS(l, *cert, *key)
	if !errors.Is(err, snitch.ErrDrained) {
		log.Fatal(err)
	}
	// Every handoff sent to us was accepted: let their clients finish.
	// Not Shutdown at once: it closes connections it counts as idle,
	// and a new HTTP/2 connection is idle until its first request
	// arrives, so a client just handed over would lose its request.
	conns.wait(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Printf("shutdown: %v", err)
	}
	log.Printf("stopped")
}
