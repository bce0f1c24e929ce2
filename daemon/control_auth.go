package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"slices"
	"strconv"
	"syscall"

	"zonekeeper/daemon/api"
)

// Who may do what over the control socket (docs/architecture.md,
// "Control socket"). The socket is mode 0660: root and the socket's
// group can connect. Each handler declares the capability it needs:
//
//   - read: status, zones, health, events, peers, keys without secrets,
//     autoprimaries; metadata that names files is hidden;
//   - admin: everything that changes something, and what reveals a
//     secret or a file path (export, which carries TSIG secrets).
//
// The kernel tells who is at the other end of each connection
// (SO_PEERCRED). Root, the daemon's own user and the members of the
// control-admin-group setting (primary group, or member in /etc/group)
// have admin; anyone else who could connect may only read.

// capability is what a control request needs.
type capability int

const (
	capRead  capability = iota // look
	capAdmin                   // change, or see secrets and file paths
)

// peerCred is the process at the other end of a control connection.
type peerCred struct {
	pid, uid, gid int
	known         bool
}

type credKey struct{}

// connCred reads the peer credentials of a unix socket connection.
func connCred(c net.Conn) peerCred {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return peerCred{}
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return peerCred{}
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return peerCred{}
	}
	return peerCred{pid: int(cred.Pid), uid: int(cred.Uid), gid: int(cred.Gid), known: true}
}

// withCred is the control server's ConnContext: each request carries
// the credentials of its connection.
func withCred(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, credKey{}, connCred(c))
}

// adminGroup resolves the control-admin-group setting to a gid; -1 when
// unset.
func adminGroup(name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		if n, nerr := strconv.Atoi(name); nerr == nil {
			return n, nil
		}
		return -1, fmt.Errorf("control-admin-group: %w", err)
	}
	return strconv.Atoi(g.Gid)
}

// admin reports whether the request's peer has the admin capability.
func (d *Daemon) admin(r *http.Request) bool {
	cr, _ := r.Context().Value(credKey{}).(peerCred)
	if !cr.known {
		// Not a unix socket with credentials (tests over other
		// transports): the socket's permissions are the only guard.
		return true
	}
	if cr.uid == 0 || cr.uid == os.Getuid() {
		return true
	}
	return d.adminGID >= 0 && (cr.gid == d.adminGID || memberOf(cr.uid, d.adminGID))
}

// memberOf reports whether the user uid is a member of group gid in the
// group database (/etc/group): SO_PEERCRED gives only the primary group,
// and the service's sandbox hides other users' /proc entries.
func memberOf(uid, gid int) bool {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return false
	}
	ids, err := u.GroupIds()
	return err == nil && slices.Contains(ids, strconv.Itoa(gid))
}

// allow checks that the request's peer has capability c for what it
// asks; the error says what is needed.
func (d *Daemon) allow(r *http.Request, c capability) error {
	if c == capRead || d.admin(r) {
		return nil
	}
	cr, _ := r.Context().Value(credKey{}).(peerCred)
	how := "run it as root"
	if d.cfg.ControlAdminGroup != "" {
		how += " or as a member of group " + d.cfg.ControlAdminGroup + " (control-admin-group)"
	} else {
		how += ", or name an admin group with the control-admin-group setting"
	}
	return api.Errorf(api.CodeForbidden, "%s %s needs the admin capability of the control socket (uid %d may only read): %s",
		r.Method, r.URL.Path, cr.uid, how)
}

// hiddenMeta are the metadata kinds whose values name files: shown to
// admins only.
var hiddenMeta = map[string]bool{"LUA-AXFR-SCRIPT": true}

// visibleMeta returns meta as the request's peer may see it.
func (d *Daemon) visibleMeta(r *http.Request, meta map[string][]string) map[string][]string {
	if d.admin(r) {
		return meta
	}
	out := make(map[string][]string, len(meta))
	for k, v := range meta {
		if hiddenMeta[k] {
			v = []string{"(hidden: needs the admin capability)"}
		}
		out[k] = v
	}
	return out
}
