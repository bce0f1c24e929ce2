package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"zonekeeper/daemon/api"
	"zonekeeper/store"
)

// controlSocketMode lets root and the service group use the socket.
const controlSocketMode = 0o660

// maxBodyBytes bounds a control request body.
const maxBodyBytes = 1 << 20

// listenControl opens the control socket at path. A socket left behind by
// a daemon that is gone is replaced; one that answers means another
// daemon runs there, which is an error.
func listenControl(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another zonekeeper daemon is running there; stop it or pass another --control", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: removing a stale socket: %w", path, err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, controlSocketMode); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return l, nil
}

// handlerFunc handles one control request and returns the reply body or
// an error; an *api.Error keeps its code, anything else is internal.
type handlerFunc func(r *http.Request) (any, error)

// routes returns the control API's handlers.
func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	// A GET only looks; anything else changes something and needs the
	// admin capability (control_auth.go), as does the export, which
	// carries TSIG secrets.
	handle := func(pattern string, h handlerFunc) {
		c := capAdmin
		if strings.HasPrefix(pattern, "GET ") && pattern != "GET /v1/export" {
			c = capRead
		}
		mux.Handle(pattern, d.wrap(h, c))
	}
	handle("GET /v1/status", d.handleStatus)
	handle("GET /v1/zones", d.handleZoneList)
	handle("POST /v1/zones", d.handleAddSecondary)
	handle("GET /v1/zones/{name}", d.handleZoneShow)
	handle("PATCH /v1/zones/{name}", d.handleZoneSet)
	handle("DELETE /v1/zones/{name}", d.handleZoneRemove)
	handle("POST /v1/zones/{name}/records", d.handleEdit)
	handle("PUT /v1/zones/{name}/meta/{kind}", d.handleMetaSet)
	handle("POST /v1/zones/{name}/retrieve", d.handleRetrieve)
	handle("POST /v1/zones/{name}/notify", d.handleNotify)
	handle("POST /v1/zones/{name}/set-serial", d.handleSetSerial)
	handle("POST /v1/zones/{name}/promote", d.handlePromote)  // promote.go
	handle("POST /v1/zones/{name}/demote", d.handleDemote)    // promote.go
	handle("POST /v1/promote", d.handlePromoteAll)            // promote.go
	handle("GET /v1/zones/{name}/health", d.handleZoneHealth) // health.go
	handle("GET /v1/keys", d.handleKeyList)
	handle("POST /v1/keys", d.handleKeyAdd)
	handle("DELETE /v1/keys/{name}", d.handleKeyRemove)
	handle("GET /v1/autoprimaries", d.handleAutoprimaryList)
	handle("POST /v1/autoprimaries", d.handleAutoprimaryAdd)
	handle("DELETE /v1/autoprimaries/{ip}", d.handleAutoprimaryRemove)
	handle("GET /v1/peers", d.handlePeerList)
	handle("POST /v1/peers", d.handlePeerAdd)
	handle("DELETE /v1/peers/{name}", d.handlePeerRemove)
	handle("GET /v1/export", d.handleExport) // export.go
	mux.HandleFunc("GET /v1/events", d.handleEvents)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, api.Errorf(api.CodeNotFound, "no control API endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// storageError words an error the API has no code for: a full or
// read-only disk is the operator's to fix and says so (writes are atomic,
// so nothing was changed); anything else is internal.
func storageError(err error) *api.Error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), strings.Contains(err.Error(), "database or disk is full"):
		return api.Errorf(api.CodeStorage, "no space left on the disk of the data directory: %v; nothing was changed: free some space and retry", err)
	case errors.Is(err, syscall.EROFS), errors.Is(err, fs.ErrPermission):
		return api.Errorf(api.CodeStorage, "the data directory cannot be written: %v; nothing was changed", err)
	}
	return api.Errorf(api.CodeInternal, "internal error: %v", err)
}

// wrap turns a handlerFunc into an http.Handler writing JSON.
func (d *Daemon) wrap(h handlerFunc, c capability) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		out, err := any(nil), d.allow(r, c)
		if err == nil {
			out, err = h(r)
		}
		if err != nil {
			var ae *api.Error
			if !errors.As(err, &ae) {
				d.log.Error("control API: "+err.Error(), "method", r.Method, "path", r.URL.Path)
				ae = storageError(err)
			}
			writeError(w, ae)
			return
		}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			status = http.StatusCreated
		}
		if r.Method != http.MethodGet {
			// Peers, primaries and access lists may have changed.
			d.reserved.changed()
		}
		if out == nil {
			out = struct{}{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(out)
	})
}

// statusOf maps an error code to its HTTP status.
func statusOf(code string) int {
	switch code {
	case api.CodeBadRequest:
		return http.StatusBadRequest
	case api.CodeNotFound:
		return http.StatusNotFound
	case api.CodeExists, api.CodeConflict:
		return http.StatusConflict
	case api.CodeInvalidZone:
		return http.StatusUnprocessableEntity
	case api.CodeNotPermitted, api.CodeForbidden:
		return http.StatusForbidden
	case api.CodeUpstream:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, e *api.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusOf(e.Code))
	json.NewEncoder(w).Encode(api.ErrorBody{Error: e})
}

// decode reads a JSON request body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return api.Errorf(api.CodeBadRequest, "malformed request body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return api.Errorf(api.CodeBadRequest, "malformed request body: trailing data")
	}
	return nil
}

// storeError maps store sentinels to API errors with a message naming what.
func storeError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return api.Errorf(api.CodeNotFound, "%s does not exist", what)
	case errors.Is(err, store.ErrExists):
		return api.Errorf(api.CodeExists, "%s already exists", what)
	}
	return err
}

// serveControl serves the control API on l until ctx is cancelled.
func (d *Daemon) serveControl(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           d.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       withCred, // who is asking: control_auth.go
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("control socket: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	<-errc
	os.Remove(d.cfg.ControlPath())
	return nil
}
