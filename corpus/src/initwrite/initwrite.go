// Package main is a plugin whose init creates the file named by
// SOINSPECT_INIT_MARKER: proof that a real plugin.Open runs plugin code.
// It uses syscall rather than os to stay small.
package main

import "syscall"

func init() {
	name, ok := syscall.Getenv("SOINSPECT_INIT_MARKER")
	if !ok || name == "" {
		return
	}
	fd, err := syscall.Open(name, syscall.O_CREAT|syscall.O_WRONLY|syscall.O_TRUNC, 0o644)
	if err == nil {
		syscall.Write(fd, []byte("initwrite init ran\n"))
		syscall.Close(fd)
	}
}

var Ran = true
