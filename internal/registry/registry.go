// Package registry keeps a backend's dblink connections: any number of named
// connections and at most one unnamed connection, as contrib dblink does.
//
// The registry only maps names to connections; it neither opens nor closes
// them. Callers close what Remove, SetUnnamed and Clear hand back. Like a
// map, it is not safe for concurrent use: the session touches it from the
// backend's thread only.
package registry

import (
	"errors"
	"sort"
)

// ErrDuplicate is returned by Add when the name is already taken.
var ErrDuplicate = errors.New("duplicate connection name")

// Registry maps connection names to connections of type C.
type Registry[C any] struct {
	unnamed *C
	named   map[string]*C
}

// New returns an empty registry.
func New[C any]() *Registry[C] {
	return &Registry[C]{named: make(map[string]*C)}
}

// Get returns the named connection, or nil.
func (r *Registry[C]) Get(name string) *C {
	return r.named[name]
}

// Unnamed returns the unnamed connection, or nil.
func (r *Registry[C]) Unnamed() *C {
	return r.unnamed
}

// Add registers c under name, or returns ErrDuplicate.
func (r *Registry[C]) Add(name string, c *C) error {
	if _, ok := r.named[name]; ok {
		return ErrDuplicate
	}
	r.named[name] = c
	return nil
}

// SetUnnamed makes c the unnamed connection and returns the one it replaces
// (nil if none); c may be nil to clear the slot.
func (r *Registry[C]) SetUnnamed(c *C) (old *C) {
	old, r.unnamed = r.unnamed, c
	return old
}

// Remove unregisters the named connection and returns it, or nil.
func (r *Registry[C]) Remove(name string) *C {
	c := r.named[name]
	delete(r.named, name)
	return c
}

// Names returns the names of the named connections, sorted.
func (r *Registry[C]) Names() []string {
	names := make([]string, 0, len(r.named))
	for n := range r.named {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Clear empties the registry and returns every connection it held.
func (r *Registry[C]) Clear() []*C {
	all := make([]*C, 0, len(r.named)+1)
	if r.unnamed != nil {
		all = append(all, r.unnamed)
		r.unnamed = nil
	}
	for _, c := range r.named {
		all = append(all, c)
	}
	r.named = make(map[string]*C)
	return all
}
