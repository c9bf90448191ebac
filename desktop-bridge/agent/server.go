package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

var errNoEnrolment = errors.New("no such enrolment")

// DefaultSocket returns $XDG_RUNTIME_DIR/vscard/bridge.sock, or
// <temp dir>/vscard-<uid>/bridge.sock when XDG_RUNTIME_DIR is not set.
func DefaultSocket() string {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return filepath.Join(os.TempDir(), fmt.Sprintf("vscard-%d", os.Getuid()), "bridge.sock")
	}
	return filepath.Join(dir, "vscard", "bridge.sock")
}

// PINChangeQueued answers a PIN change report: whether the server has it now (otherwise it
// is sent on the next contact).
type PINChangeQueued struct {
	Sent bool `json:"sent"`
}

// Listen creates the control socket at path: its directory 0700 and owned by us, the
// socket 0600. A stale socket left by a crashed agent is replaced; a live one is an
// error. The listener holds an exclusive lock on path+".lock" until it is closed, so two
// agents starting at once (a second `vscard-bridge open` that found none answering yet)
// cannot both take the socket, the later one unlinking the earlier one's: the second gets
// the same error as when the first already answers.
func Listen(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("check socket directory: %w", err)
	}
	if st, ok := fi.Sys().(*unix.Stat_t); ok && (int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o077 != 0) {
		return nil, fmt.Errorf("check socket directory: %s must be ours and closed to others (mode 0700)", dir)
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock socket: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("listen on %s: another agent is running", path)
		}
		return nil, fmt.Errorf("lock socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		lock.Close()
		return nil, fmt.Errorf("listen on %s: another agent is running", path)
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, fmt.Errorf("restrict socket: %w", err)
	}
	return sameUser{UnixListener: ln.(*net.UnixListener), lock: lock}, nil
}

// sameUser accepts only connections from processes of our own user. It holds the
// socket's lock (see Listen) until closed.
type sameUser struct {
	*net.UnixListener
	lock *os.File
}

// Close stops listening and lets the next agent take the socket.
func (l sameUser) Close() error {
	err := l.UnixListener.Close()
	l.lock.Close()
	return err
}

func (l sameUser) Accept() (net.Conn, error) {
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			return nil, err
		}
		if peerIsUs(c) {
			return c, nil
		}
		c.Close()
	}
}

func peerIsUs(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return false
	}
	return int(cred.Uid) == os.Getuid()
}

// Serve answers the control protocol on ln until ctx ends.
func (a *Agent) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve control socket: %w", err)
	}
	return nil
}

// Handler returns the control protocol's HTTP handler.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		n := len(a.cards)
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, Status{Version: a.cfg.Version, Cards: n, Slots: a.Slots()})
	})
	mux.HandleFunc("GET /v1/cards", func(w http.ResponseWriter, r *http.Request) {
		cards, err := a.Cards()
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, cards)
	})
	mux.HandleFunc("DELETE /v1/cards/{serial}", func(w http.ResponseWriter, r *http.Request) {
		serial, err := parseSerial(r.PathValue("serial"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		serials, err := vcard.List(a.cardDir)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		if !slices.Contains(serials, serial) {
			writeError(w, http.StatusNotFound, fmt.Errorf("delete card %d: %w", serial, vcard.ErrNotFound))
			return
		}
		if err := a.DeleteCard(serial); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/cards/{serial}/pin-changes", func(w http.ResponseWriter, r *http.Request) {
		serial, err := parseSerial(r.PathValue("serial"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		var body PINChangeReport
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&body); err != nil || !slices.Contains(api.AllPinChangeResult, body.Result) {
			writeError(w, http.StatusBadRequest, fmt.Errorf("decode PIN change: want a result code: %v", err))
			return
		}
		if body.At.IsZero() {
			body.At = time.Now()
		}
		sent, err := a.QueuePINChange(r.Context(), serial, body)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, PINChangeQueued{Sent: sent})
	})
	mux.HandleFunc("POST /v1/enrolments", a.handleEnrol)
	mux.HandleFunc("POST /v1/enrolments/{id}/pin", func(w http.ResponseWriter, r *http.Request) {
		var body pinBody
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("decode PIN: %w", err))
			return
		}
		if err := a.SendPIN(r.PathValue("id"), handoff.PINAnswer{New: body.PIN, Current: body.Current}); err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/enrolments/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		if err := a.CancelEnrolment(r.PathValue("id")); err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// pinBody answers a PIN prompt: the new PIN, and the current one in PINChange mode.
type pinBody struct {
	PIN     string `json:"pin"`
	Current string `json:"current,omitempty"`
}

// Status answers GET /v1/status.
type Status struct {
	Version string `json:"version"`
	Cards   int    `json:"cards"`
	Slots   []Slot `json:"slots"`
}

// handleEnrol starts an enrolment and streams its messages as NDJSON until it ends or
// the client leaves.
func (a *Agent) handleEnrol(w http.ResponseWriter, r *http.Request) {
	var req EnrolRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("decode enrolment request: %w", err))
		return
	}
	e, err := a.startEnrolment(req)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, handoff.ErrBadLink) {
			status = http.StatusBadRequest
		}
		writeError(w, status, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for i := 0; ; {
		msgs, ended, changed := e.next(i)
		for _, m := range msgs {
			if err := enc.Encode(m); err != nil {
				return
			}
		}
		i += len(msgs)
		if flusher != nil {
			flusher.Flush()
		}
		if ended {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			if e.client != nil {
				e.client.clientGone()
			}
			return
		}
	}
}

func statusOf(err error) int {
	if errors.Is(err, errNoEnrolment) {
		return http.StatusNotFound
	}
	return http.StatusConflict
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
