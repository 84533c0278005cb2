package conn

import (
	"runtime"
	"syscall"
)

// Memory for one message or value of bigSize or more comes from mmap, not
// from the Go heap. The remote server chooses these sizes (a message's
// length word asks for up to 1 GB before any of it has arrived), and when
// the system refuses the memory (strict overcommit, a data size limit) the
// Go heap ends the process with a fatal error, after which the postmaster
// restarts every session. mmap returns an error instead, which the query
// reports, as libpq reports a failed malloc. The memory also stays out of
// the GC's pacing, and goes back to the system once its message or batch
// has gone through.
const bigSize = 1 << 20

// bigBuf holds at most one mapping: the memory of a wire's input or of a
// batch's data while they are big.
type bigBuf struct{ b []byte }

// newBigBuf returns an empty bigBuf whose mapping is given back when owner
// becomes unreachable, if nobody released it before.
func newBigBuf[T any](owner *T) *bigBuf {
	m := &bigBuf{}
	runtime.AddCleanup(owner, (*bigBuf).release, m)
	return m
}

// grow maps n bytes, copies keep to their start and returns them (length
// len(keep), capacity n); the mapping held before is then released, so
// keep may point into it. On failure nothing changes.
func (m *bigBuf) grow(keep []byte, n int) ([]byte, error) {
	b, err := mapBytes(n)
	if err != nil {
		return nil, err
	}
	b = b[:copy(b, keep)]
	m.release()
	m.b = b
	return b, nil
}

// release unmaps the memory held, if any. Nothing may use it afterwards.
func (m *bigBuf) release() {
	if m.b != nil {
		_ = syscall.Munmap(m.b[:cap(m.b)])
		m.b = nil
	}
}

// mapBytes maps n bytes of private memory; a variable so that tests can
// make it fail.
var mapBytes = func(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
}
