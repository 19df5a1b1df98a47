//go:build !linux

package main

import "syscall"

// childSysProcAttr has nothing to add outside Linux; the bare server still
// exits when its stdin (a pipe from the bench) closes.
func childSysProcAttr() *syscall.SysProcAttr { return nil }
