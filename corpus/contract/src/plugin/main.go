// Package main is the contract plugin: symbols that a host built against example.com/real/api looks up
// and asserts, some right, some from the look-alike example.com/fake/api or from a package only the
// plugin links (example.com/only).
package main

import (
	"context"

	fakeapi "example.com/fake/api"
	"example.com/only"
	realapi "example.com/real/api"
)

func InitModule(ctx context.Context, l realapi.Logger) error     { return nil }
func InitModuleFake(ctx context.Context, l fakeapi.Logger) error { return nil }
func InitGood(l realapi.Logger) error                            { return nil }
func InitFake(l fakeapi.Logger) error                            { return nil }
func InitOnly(l only.Logger) error                               { return nil }

// Interfaces by value and by pointer receivers.
type ValLog struct{}

func (ValLog) Log(msg string) {}

type PtrLog struct{}

func (*PtrLog) Log(msg string) {}

type WrongLog struct{}

func (WrongLog) Log(msg []byte) {}

var (
	VVal      ValLog  // Lookup gives *ValLog: Log (value receiver) is in its method set
	VPtr      PtrLog  // *PtrLog: Log (pointer receiver)
	VPtrPtr   *PtrLog // **PtrLog: no methods
	VValPtr   *ValLog // **ValLog: no methods
	VWrong    WrongLog
	VOnly     only.Thing // *only.Thing has Log(string): a type from a package the host does not link
	VRealIfc  realapi.Logger
	VFakeIfc  fakeapi.Logger
)

// Interfaces with an unexported method.
type RealNamer struct{ realapi.BaseNamer }

func (RealNamer) Name() string { return "real" }

type FakeNamer struct{ fakeapi.BaseNamer }

func (FakeNamer) Name() string { return "fake" }

type OwnNamer struct{}

func (OwnNamer) Name() string { return "own" }
func (OwnNamer) id() int      { return 0 }

var (
	VRealNamer RealNamer
	VFakeNamer FakeNamer
	VOwnNamer  OwnNamer
)

// Structs with unexported fields, from two packages.
var (
	VRec      realapi.Rec
	VFakeRec  fakeapi.Rec
	VAnon     struct{ A int; b string }
	VEmbedRec struct {
		realapi.Rec
		x int
	}
	VOnlyThing only.Thing
)

// Generic instantiations.
var (
	VBoxItem     realapi.Box[realapi.Item]
	VBoxFakeItem realapi.Box[fakeapi.Item]
	VFakeBoxItem fakeapi.Box[realapi.Item]
	VBoxInt      realapi.Box[int]
)

// A named map type (its uncommon part lies after the map type's release-specific layout).
var (
	VSet     realapi.Set
	VFakeSet fakeapi.Set
)

func main() {}
