// Built as a package, so its plugin path is its import path, example.com/pluginA.
package main

func Name() string { return "pluginA build 1" }
