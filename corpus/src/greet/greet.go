package main

// stamp is only here to be set with -ldflags=-X main.stamp=x.
var stamp string

func Greet() string { return "Hello Phx Gophers" + stamp }

var V int
