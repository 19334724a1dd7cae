package main

// Calls host_fn, which it expects the host to provide (it is not in any library it links).

/*
int host_fn(void);
*/
import "C"

func CallHost() int { return int(C.host_fn()) }
