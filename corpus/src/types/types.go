// Package main is the types plugin: exported functions and variables of many
// kinds, so that a static decoder of Lookup's types has a ground truth.
// Built as a package: its plugin path is example.com/types.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

	"example.com/types/shapes"
)

// Functions.

func NoArgs()                                   {}
func Greet() string                             { return "Hello Phx Gophers" }
func Add(a, b int) int                          { return a + b }
func Mixed(s string, b []byte, f float64) bool  { return len(s)+len(b) > int(f) }
func Variadic(format string, args ...int) error { return fmt.Errorf(format, len(args)) }
func Pair() (int, error)                        { return 0, nil }
func Named() (n int, err error)                 { return }
func Takes(p Point, pp *Point, c shapes.Circle) {}
func Callback(f func(int) string) string        { return f(1) }
func ReturnsFunc() func() error                 { return nil }
func Identity[T any](v T) T                     { return v }

// IntIdentity is an instantiated generic function (generic functions themselves
// cannot be exported from a plugin).
var IntIdentity = Identity[int]

// Named types defined in the plugin.

type Point struct{ X, Y int }

func (p Point) String() string { return fmt.Sprint(p.X, ",", p.Y) }

type Celsius float64

type Shape interface {
	Area() float64
}

type ReadStringer interface {
	io.Reader
	fmt.Stringer
}

type Box[T any] struct{ V T }

type Handler func(string) error

// Variables: basic kinds.

var (
	VInt        int
	VInt8       int8
	VUint64     uint64
	VUintptr    uintptr
	VFloat32    float32
	VComplex128 complex128
	VBool       bool
	VString     = "s"
	VRune       rune
	VByte       byte
	VUnsafe     unsafe.Pointer
)

// Variables: composite kinds.

var (
	VBytes     []byte
	VMap       map[string][]int
	VSendChan  chan<- int
	VRecvChan  <-chan string
	VChanEmpty chan struct{}
	VArray     [4]uint16
	VPtrInt    *int
	VSlicePtr  []*Point
	VMapStruct map[Point]struct{}
	VTagged    = struct {
		Name string `json:"name"`
		Age  int    `json:"age,omitempty"`
	}{Name: "x"}
	VAnon struct {
		A int
		B string
		c bool
	}
	VEmptyStruct struct{}
)

// Variables: interfaces.

var (
	VAny       interface{}
	VAnyAlias  any
	VShape     Shape
	VEmbedded  ReadStringer
	VInlineIfc interface{ M(int) string }
	VError     error = errors.New("e")
	VReader    io.Reader
	VStringer  fmt.Stringer
)

// Variables: named types.

var (
	P       Point
	PP      *Point
	VTemp   Celsius
	VCircle shapes.Circle
	VDur    time.Duration
	VBuffer *bytes.Buffer
	VTime   time.Time
	B       Box[int]
	BS      Box[string]
	BP      *Box[Point]
)

// Variables: funcs.

var (
	VFunc       func(int) string
	VFuncMulti  func(string, ...int) (int, error)
	VHandler    Handler
	VFuncOfFunc func(func() int) func() string
)
