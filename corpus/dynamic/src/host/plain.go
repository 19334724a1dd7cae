//go:build !dyn_export && !dyn_hostlib

package main

// The oracle host of corpus/src/host (main.go is copied from there at build time), exporting nothing
// of its own to the dynamic loader.

func useDep() {}
