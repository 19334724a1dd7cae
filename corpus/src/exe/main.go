package main

// println, not fmt: the corpus keeps this binary twice (exe and pie), small is better.
func main() { println("Hello Phx Gophers") }
