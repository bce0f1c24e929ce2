// Package tui is zonekeeper's terminal user interface, built with Bubble Tea.
// It talks to the daemon only through the control API client.
package tui
