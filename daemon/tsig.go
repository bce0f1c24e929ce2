package daemon

import "zonekeeper/store"

// STUB: replaced by the replication work (issue 4). The seam is fixed:
// newKeyring, lookup, secrets and reload keep these signatures.

// keyring holds the TSIG keys of the store for the DNS side: verifying
// signed requests and signing outgoing ones. Names are compared
// case-insensitively.
type keyring struct{ d *Daemon }

func newKeyring(d *Daemon) *keyring { return &keyring{d: d} }

// lookup returns the key of that name.
func (k *keyring) lookup(name string) (store.Key, bool) { return store.Key{}, false }

// secrets returns name → base64 secret for miekg/dns (fully qualified,
// lower-case names).
func (k *keyring) secrets() map[string]string { return nil }

// reload re-reads the keys after the control API changed them.
func (k *keyring) reload() {}
