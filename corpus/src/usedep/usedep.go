package main

import "example.com/dep"

func Message() string { return "usedep says: " + dep.Hello() }
