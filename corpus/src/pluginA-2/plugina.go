// Built as a package, so its plugin path is its import path, example.com/pluginA.
// Same import path as pluginA-1, different code.
package main

var Count int

func Name() string { return "pluginA build 2, a different one" }
