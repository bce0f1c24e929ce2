package main

import "syscall"

// groupAttr starts a child process in a process group of its own (so that
// it and whatever it forks can be signalled at once) that the kernel kills
// when the test binary dies: a test killed by its timeout leaves no server
// running.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
