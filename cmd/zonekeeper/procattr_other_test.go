//go:build !linux

package main

import "syscall"

// groupAttr starts a child process in a process group of its own.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
