package main

// Calls hostlib_fn, defined by libhostlib.so, which the host links and this plugin does not.

/*
int hostlib_fn(void);
*/
import "C"

func CallLib() int { return int(C.hostlib_fn()) }
