// Package api is the real one of two packages named api that define the same names (example.com/real/api
// and example.com/fake/api): a look-alike, for the contract's type identity.
package api

// Logger is what a host hands its plugins.
type Logger interface{ Log(msg string) }

// Namer has an unexported method: only a type that gets id from this package implements it.
type Namer interface {
	Name() string
	id() int
}

// BaseNamer gives the unexported method id to types that embed it.
type BaseNamer struct{}

func (BaseNamer) id() int { return 1 }

// Rec has an unexported field.
type Rec struct {
	Pub    int
	hidden string
}

// Item is a type argument.
type Item struct{ X int }

// Box is generic.
type Box[T any] struct{ V T }

// Set is a named map type with a method.
type Set map[string]bool

func (s Set) Has(k string) bool { return s[k] }
