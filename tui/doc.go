// Package tui is zonekeeper's terminal user interface, built with Bubble
// Tea, Bubbles and Lip Gloss: the operator's console over SSH. It talks
// to the daemon only through the control API client (daemon/client and
// the wire types of daemon/api).
//
// The root model (App) holds the tab bar, the status line, the help
// screen, the connection to the daemon (conn.go: status polling and
// reconnection with backoff) and the live event feed (feed.go: one
// command reads the stream, another hands it to the views one batch per
// frame). The views are in pages/, one package each; the widgets they
// share in components/; what every view embeds (size, styles, key map,
// clock, the daemon) in common/; every key in keymap/ and every style in
// styles/. All daemon calls run in commands: Update never blocks.
//
// docs/tui.md describes the views and the key map.
package tui
