//go:build !linux

package kube

import "syscall"

// sysProcAttr puts each control-plane process in its own process group.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
