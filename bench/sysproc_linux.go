//go:build linux

package main

import "syscall"

// childSysProcAttr makes the kernel send SIGTERM to a child if the bench
// dies without stopping it (kill -9, a crash), so no server is left behind.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
