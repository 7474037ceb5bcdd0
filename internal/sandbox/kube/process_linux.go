package kube

import "syscall"

// sysProcAttr puts each control-plane process in its own process group, so
// a Ctrl-C at the terminal reaches eksbg alone and eksbg stops them in
// order, and asks the kernel to send SIGTERM to them should eksbg die
// without stopping them.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
