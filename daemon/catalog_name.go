package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Catalog names (docs/architecture.md, "Catalog zones"). Each node serves
// its catalog under catalog-zone, by default
// <node-id>.catalog.zonekeeper.invalid., so that one BIND or Knot can
// consume the catalogs of several nodes at once. The node id is made
// once, at random, and kept in DATA/node-id: it stays the same across
// restarts and upgrades, and differs between nodes.
//
// Each node also serves its catalog under the name every zonekeeper
// once used, catalog.zonekeeper.invalid. (legacyCatalog), with one
// custom property (RFC 9432 §4.4.3) naming the real one:
//
//	catalog-zone.ext.catalog.zonekeeper.invalid. PTR <catalog-zone>
//
// A peer's catalog name is configured (`peer add NAME ADDR --catalog
// CATALOG`), else learned: the peer's legacy catalog is read, and the
// property, when there is one, names the catalog read from then on. A
// peer whose legacy catalog has no such property (an older zonekeeper)
// is read under the legacy name.

// legacyCatalog is the catalog name shared by every node: older nodes
// serve and read their catalogs under it only; newer ones serve it as
// well, as the way to learn their real catalog name.
const legacyCatalog = "catalog.zonekeeper.invalid."

// catalogNameProperty is the owner, under a catalog's apex, of the
// custom property that names the catalog a node really serves.
const catalogNameProperty = "catalog-zone.ext."

// nodeIDFile holds the node id under DATA.
const nodeIDFile = "node-id"

// nodeIDRE is what a node id may be: one DNS label of letters, digits
// and '-'.
var nodeIDRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// nodeID returns this node's id, read from DATA/node-id, made (12 hex
// digits at random) and written there when the file is missing.
func nodeID(data string) (string, error) {
	path := filepath.Join(data, nodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.ToLower(strings.TrimSpace(string(b)))
		if !nodeIDRE.MatchString(id) {
			return "", fmt.Errorf("%s: %q is not a node id (one DNS label of letters, digits and '-'); fix or remove the file", path, id)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node id: %w", err)
	}
	raw := make([]byte, 6)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	id := hex.EncodeToString(raw)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	return id, nil
}

// defaultCatalogZone returns the catalog name of the node whose data
// directory is data: <node-id>.catalog.zonekeeper.invalid.
func defaultCatalogZone(data string) (string, error) {
	id, err := nodeID(data)
	if err != nil {
		return "", err
	}
	return id + "." + legacyCatalog, nil
}

// catalogZoneSetting validates a catalog zone name (catalog-zone, peer
// add --catalog); "" stays "" (the default).
func catalogZoneSetting(value string) (string, error) {
	if value == "" {
		return "", nil
	}
	name, err := zoneName(value)
	if err != nil {
		return "", fmt.Errorf("%q is not a zone name such as catalog.example.", value)
	}
	if name == "." {
		return "", errors.New("the root cannot be a catalog zone")
	}
	return name, nil
}

// isCatalogName reports whether zone is, by its name, a zonekeeper
// catalog: the legacy name or a name under it. Such zones are never
// provisioned as members.
func isCatalogName(zone string) bool {
	return zone == legacyCatalog || strings.HasSuffix(zone, "."+legacyCatalog)
}

// catalogContent is what a catalog's records say.
type catalogContent struct {
	members []string // member zones, sorted
	named   string   // the catalog-zone property: the name the producer really serves its catalog under; "" none
}

// parseCatalog returns what the records of the catalog apex say; a
// catalog whose version is not 2 is refused (RFC 9432 §4.2). Members
// that are catalogs themselves are left out.
func parseCatalog(apex string, recs []dns.RR) (catalogContent, error) {
	apex = strings.ToLower(dns.Fqdn(apex))
	version := ""
	suffix := ".zones." + apex
	var out catalogContent
	for _, rr := range recs {
		name := strings.ToLower(rr.Header().Name)
		switch v := rr.(type) {
		case *dns.TXT:
			if name == "version."+apex && len(v.Txt) == 1 {
				version = v.Txt[0]
			}
		case *dns.PTR:
			if name == catalogNameProperty+apex {
				if n, err := catalogZoneSetting(v.Ptr); err == nil {
					out.named = n
				}
				continue
			}
			if !strings.HasSuffix(name, suffix) || strings.Count(strings.TrimSuffix(name, suffix), ".") != 0 {
				continue
			}
			z, err := zoneName(v.Ptr)
			if err != nil || z == apex || isCatalogName(z) || slices.Contains(out.members, z) {
				continue
			}
			out.members = append(out.members, z)
		}
	}
	if version != "2" {
		return catalogContent{}, fmt.Errorf("catalog %s: version %q, not \"2\" (RFC 9432)", apex, version)
	}
	slices.Sort(out.members)
	return out, nil
}

// peerCatalog returns the name p's catalog is read under: the one
// configured for it, else the one it told (catalog_name.go), else
// legacyCatalog.
func (c *catalog) peerCatalog(p peer) string {
	if p.Catalog != "" {
		return p.Catalog
	}
	if n := c.learnedName(p.Name); n != "" {
		return n
	}
	return legacyCatalog
}

// learnedName returns the catalog name peer name told; "" none yet.
func (c *catalog) learnedName(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.learned[name]
}

// isOwn reports whether zone is a name this node serves its catalog under.
func (c *catalog) isOwn(zone string) bool { return zone == c.name || zone == legacyCatalog }

// isPeerCatalog reports whether zone is the catalog of peer p: its
// configured or learned name, or, for a peer of role peer, any
// zonekeeper catalog name.
func (c *catalog) isPeerCatalog(p peer, zone string) bool {
	if p.Catalog != "" {
		return zone == p.Catalog
	}
	return p.Role == rolePeer && (isCatalogName(zone) || zone == c.learnedName(p.Name))
}
