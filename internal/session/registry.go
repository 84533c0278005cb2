package session

import "sort"

// registry maps names to a backend's connections: any number of named
// connections and at most one unnamed connection, as contrib dblink keeps
// them. It neither opens nor closes a connection: callers close what
// remove, setUnnamed and clear hand back. Backend's thread only.
type registry struct {
	unnamed *entry
	named   map[string]*entry
}

func newRegistry() registry { return registry{named: make(map[string]*entry)} }

// get returns the named connection (the unnamed one when name is nil), or nil.
func (r *registry) get(name *string) *entry {
	if name == nil {
		return r.unnamed
	}
	return r.named[*name]
}

// add registers e under name and reports whether the name was free.
func (r *registry) add(name string, e *entry) bool {
	if _, taken := r.named[name]; taken {
		return false
	}
	r.named[name] = e
	return true
}

// setUnnamed makes e the unnamed connection (nil clears the slot) and
// returns the one it replaces, or nil.
func (r *registry) setUnnamed(e *entry) (old *entry) {
	old, r.unnamed = r.unnamed, e
	return old
}

// remove unregisters a connection (the unnamed one when name is nil) and
// returns it, or nil.
func (r *registry) remove(name *string) *entry {
	if name == nil {
		return r.setUnnamed(nil)
	}
	e := r.named[*name]
	delete(r.named, *name)
	return e
}

// names returns the names of the named connections, sorted.
func (r *registry) names() []string {
	names := make([]string, 0, len(r.named))
	for n := range r.named {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// count is the number of connections, the unnamed one included.
func (r *registry) count() int {
	n := len(r.named)
	if r.unnamed != nil {
		n++
	}
	return n
}

// clear empties the registry and returns every connection it held.
func (r *registry) clear() []*entry {
	all := make([]*entry, 0, r.count())
	if r.unnamed != nil {
		all = append(all, r.unnamed)
	}
	for _, e := range r.named {
		all = append(all, e)
	}
	*r = newRegistry()
	return all
}
