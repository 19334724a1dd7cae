package main

// Defines host_fn in its cgo preamble: opened first (RTLD_GLOBAL), it provides host_fn to the plugins
// opened after it in the same process.

/*
int host_fn(void) { return 5; }
*/
import "C"

func Provide() int { return int(C.host_fn()) }
