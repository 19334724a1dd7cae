//go:build dyn_export

package main

// A host that defines host_fn in its cgo preamble and links with -rdynamic: host_fn is in its .dynsym,
// so a plugin that calls host_fn binds to it when plugin.Open dlopens it with RTLD_NOW.

/*
#cgo LDFLAGS: -rdynamic
int host_fn(void) { return 42; }
*/
import "C"

func useDep() {}
